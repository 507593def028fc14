"""Configuration of the web interface's sign-in: an OpenID Connect provider (issuer URL,
client id and secret) and how the claims of its ID token map to a role and its scope.

The file (`serve --web-config FILE`, JSON) holds no secret: the client secret comes from
`IUBLEDGER_OIDC_CLIENT_SECRET` or from the file named by `client_secret_file`, which must
be readable by its owner only (0600).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from iubledger.roles import Roll

SECRET_ENV = "IUBLEDGER_OIDC_CLIENT_SECRET"  # noqa: S105 - the variable's name
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class WebConfigError(ValueError):
    """The web configuration cannot be used; the message names the setting, never a value."""


class Mappning(BaseModel):
    """What one value of the role claim grants: a role and, for a nämnd its katalog and for
    an utförare its organisation (or the claim they are read from)."""

    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)

    roll: Roll
    katalog: Slug | None = None
    utforare: Slug | None = None


class OidcConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)

    issuer: Annotated[str, Field(pattern=r"^https?://\S+$")]
    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    client_secret_file: str | None = None
    #: The address users reach the server at (the redirect URI is `<public_url>/auth/callback`).
    public_url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])
    #: The claim naming the signed-in person in the ledger's records (e.g. Entra `oid`, an
    #: HSA-id): never a personnummer.
    anvandar_claim: str = "sub"
    #: The claim holding the user's roles or groups (a string or a list of strings).
    roll_claim: str = "roles"
    roller: dict[str, Mappning]
    #: Claims the nämnd's katalog and the utförare's organisation are read from when the
    #: mapping does not name them.
    katalog_claim: str | None = None
    utforare_claim: str | None = None
    #: How long a sign-in lasts (seconds).
    session_sekunder: Annotated[int, Field(ge=300, le=86400)] = 8 * 3600

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/callback"

    @property
    def secure_cookies(self) -> bool:
        """Session cookies are Secure unless the server is reached over plain loopback HTTP."""
        return self.public_url.startswith("https://")


def load(path: Path) -> OidcConfig:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return OidcConfig.model_validate(raw)
    except OSError:
        raise WebConfigError("the web configuration file cannot be read") from None
    except json.JSONDecodeError:
        raise WebConfigError("the web configuration file is not JSON") from None
    except ValidationError as e:
        where = ", ".join(".".join(map(str, err["loc"])) for err in e.errors())
        raise WebConfigError(f"the web configuration is invalid at: {where}") from None


def client_secret(config: OidcConfig) -> str:
    """The client secret: the environment first, then the 0600 file."""
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    if config.client_secret_file is None:
        raise WebConfigError(f"no client secret: set {SECRET_ENV} or client_secret_file")
    path = Path(config.client_secret_file)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise WebConfigError("client_secret_file must be readable by its owner only (0600)")
        secret = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise WebConfigError("client_secret_file cannot be read") from None
    if not secret:
        raise WebConfigError("client_secret_file is empty")
    return secret
