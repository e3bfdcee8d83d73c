"""`python -m xxgk`: the `xxgk` command (the demo starts its scheduler process this way)."""

from xxgk.cli import main

main()
