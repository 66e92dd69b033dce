"""`python -m notary` is the `notary` command."""

from notary.cli import main

main()
