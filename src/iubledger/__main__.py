"""`python -m iubledger`: the same commands as the `iubledger` script."""

from iubledger.cli import main

if __name__ == "__main__":  # not when a worker process imports it (`services.offload`)
    main()
