"""The HTTP API for utförare, nämnd and tillsyn (`iubledger serve`), with API keys and
least-privilege roles. Nothing here is imported by the command line until `serve` runs,
except `api.cli` and `api.auth` for `iubledger keys`."""
