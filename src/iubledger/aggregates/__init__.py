"""Event-sourced aggregates; their events hold documentation only, never raw identity."""

from uuid import UUID

#: Namespace of every deterministic aggregate id of the ledger.
NAMESPACE = UUID("6a1b7f0e-2c55-4c1e-9a53-1d2f1b0c9e41")
