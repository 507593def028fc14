"""Undantag under 14 kap. 5 § SoL: nothing that can reveal identity is documented."""

from __future__ import annotations

import secrets


def new_besokskod() -> str:
    """A random code handed to the participant to link visits (14 kap. 5 § SoL: no identity)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    c = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{c[:4]}-{c[4:]}"
