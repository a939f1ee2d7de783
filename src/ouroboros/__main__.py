"""``python -m ouroboros``: the same command line as the ``ouroboros`` script."""

from ouroboros.cli import main

if __name__ == "__main__":
    main()
