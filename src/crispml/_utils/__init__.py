"""Private helpers: no public names, no stable API."""
