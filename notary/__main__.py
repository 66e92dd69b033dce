"""`python -m notary` is the `notary` command."""

from notary.cli import main

if __name__ == "__main__":  # not when the anchoring process (spawn) imports the main module
    main()
