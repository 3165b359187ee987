"""Starting the service with uvicorn (``crispml serve`` and ``python -m crispml.serve``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from crispml.serve._app import ServeSettings, app_from_bundle
from crispml.serve._bundle import BundleError


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
        help="SQLite inference log (default: BUNDLE/logs/inference.sqlite)",
    )
    parser.add_argument("--log-sample-rate", type=float, default=1.0)
    args = parser.parse_args(argv)
    log_path = args.log_path or str(Path(args.bundle) / "logs" / "inference.sqlite")
    settings = ServeSettings(
        max_batch=args.max_batch, log_path=log_path, log_sample_rate=args.log_sample_rate
    )
    try:
        serve(args.bundle, host=args.host, port=args.port, settings=settings)
    except BundleError as exc:  # one line, no traceback, exit code 2 (as the crispml CLI)
        parser.exit(2, f"error: {exc}\n")
