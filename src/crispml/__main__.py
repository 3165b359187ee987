"""``python -m crispml``: the same as the ``crispml`` command."""

from crispml.cli import main

if __name__ == "__main__":
    main()
