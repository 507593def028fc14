"""The HTTP API for utförare, nämnd and tillsyn (`iubledger serve`), with API keys and
least-privilege roles; it calls `iubledger.services` and never the command line."""
