"""`python -m iubledger`: the same commands as the `iubledger` script."""

from iubledger.cli import main

main()
