"""Command line interface: a thin Typer layer over the Python API."""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

if _TYPE_CHECKING:
    from crispml.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``crispml`` script: set up threads, then run the command."""
    from crispml._utils._process import mark_command_start
    from crispml._utils._threads import configure_threads

    mark_command_start()  # the start-up counts against time_budget_s

    configure_threads()  # before any OpenMP library loads (see crispml._utils._threads)
    from crispml.cli._app import main as run_command

    run_command()


def __getattr__(name: str) -> object:
    if name == "app":  # the Typer app loads on first use, after main() set up threads
        from crispml.cli._app import app

        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
