"""The policy layer: the only code that ever sees raw identity (DESIGN.md, G1–G3).

POLICY_VERSION is stamped on every stored event (G4); raise it whenever a rule of what
is stored, dropped, generalised, pseudonymised or sealed changes.
"""

POLICY_VERSION = "2"
