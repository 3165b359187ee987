"""Starting the service with uvicorn (``crispml serve`` and ``python -m crispml.serve``)."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

import uvicorn

from crispml.serve._app import ServeSettings, app_from_bundle
from crispml.serve._bundle import MANIFEST, BundleError

_MSG_LOG_INSIDE = (
    "--log-path {path} is inside the run folder {bundle}: the log would break "
    "`crispml verify` (files not in the manifest). Choose a path outside it, e.g. {default}"
)


def default_log_path(bundle: str | Path) -> Path:
    """Where the inference log goes by default: outside the run folder, never inside it.

    ``<project>/.crispml/serving/<run-id>/inference.sqlite`` when the bundle is a run
    folder of a project (``<project>/runs/<run-id>``); otherwise the same under the
    current directory (or the bundle's parent, when the current directory is inside it).

    Parameters
    ----------
    bundle : str or Path
        The run folder or bundle being served.

    Returns
    -------
    Path

    Examples
    --------
    >>> default_log_path("/p/runs/r1").as_posix().endswith("serving/r1/inference.sqlite")
    True
    """
    root = Path(bundle).resolve()
    run_id = root.name
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        run_id = str(json.loads((root / MANIFEST).read_text(encoding="utf-8"))["run_id"])
    project = root.parent.parent
    if not (project / ".crispml").is_dir():
        project = Path.cwd().resolve()
        if project == root or root in project.parents:
            project = root.parent
    return project / ".crispml" / "serving" / run_id / "inference.sqlite"


def check_log_path(bundle: str | Path, log_path: str | Path) -> None:
    """Refuse a log path inside the bundle (it would fail ``crispml verify``).

    Raises
    ------
    BundleError
        If ``log_path`` lies inside ``bundle``.
    """
    root, path = Path(bundle).resolve(), Path(log_path).resolve()
    if root in path.parents:
        raise BundleError(
            _MSG_LOG_INSIDE.format(path=log_path, bundle=bundle, default=default_log_path(bundle))
        )


def serve(
    bundle: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServeSettings | None = None,
) -> None:
    """Verify the bundle and serve it until interrupted.

    Parameters
    ----------
    bundle : str or Path
        A finished run folder or a bundle with the same layout.
    host : str, default="127.0.0.1"
        Interface to bind; only the local machine by default.
    port : int, default=8000
        TCP port.
    settings : ServeSettings, optional
        Limits, API key variable and inference log.

    Raises
    ------
    BundleError
        If the bundle is incomplete or was modified after the run.
    """
    if settings is not None and settings.log_path:
        check_log_path(bundle, settings.log_path)
    app = app_from_bundle(bundle, settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> None:
    """Command line of the bundle: ``python -m crispml.serve BUNDLE [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(prog="python -m crispml.serve", description=main.__doc__)
    parser.add_argument("bundle", help="run folder or bundle (with manifest.json)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch", type=int, default=1000)
    parser.add_argument(
        "--log-path",
        default=None,
        help="SQLite inference log (default: <project>/.crispml/serving/<run-id>/, outside "
        "the run folder)",
    )
    parser.add_argument("--log-sample-rate", type=float, default=1.0)
    args = parser.parse_args(argv)
    log_path = args.log_path or str(default_log_path(args.bundle))
    settings = ServeSettings(
        max_batch=args.max_batch, log_path=log_path, log_sample_rate=args.log_sample_rate
    )
    try:
        serve(args.bundle, host=args.host, port=args.port, settings=settings)
    except BundleError as exc:  # one line, no traceback, exit code 2 (as the crispml CLI)
        parser.exit(2, f"error: {exc}\n")
