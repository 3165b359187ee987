"""Command line interface: a thin Typer layer over the Python API."""

from __future__ import annotations

from crispml.cli._app import app, main

__all__ = ["app", "main"]
