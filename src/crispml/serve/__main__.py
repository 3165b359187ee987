"""``python -m crispml.serve BUNDLE``: serve a bundle (the container's start command)."""

from __future__ import annotations

from crispml.serve._server import main

if __name__ == "__main__":
    main()
