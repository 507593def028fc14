"""Simulated utförare events: a realistic, reproducible stream for a nämnd decision file.

What an utförare application would send while the insatser of the file are carried
out (14 kap. 3 § SoL): contacts with the information of 11 kap. 6 § SoL, the summary
villkor check of 11 kap. 5 § SoL, starts with children's consent, sessions, events of
significance, dropouts and completions, referrals to the nämnd, and, for open
activities, group sessions given as counts only. Every event is meant to be accepted by
the ledger under the regime of its insats: villkor facts agree with the outcome claimed,
consent is present where required and free text never carries identity.

Pure and deterministic: no I/O, no clock, no global random state. The same arguments give
the same events in the same order; every UUID comes from a seeded `random.Random`.
Identities are fake, drawn from name lists, with Luhn-valid personnummer.
"""

from __future__ import annotations

from iubledger.simulate.stream import main_lines, simulate
from iubledger.simulate.vocabulary import ANTECKNINGAR

__all__ = ["ANTECKNINGAR", "main_lines", "simulate"]
