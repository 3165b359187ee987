"""Experiment tracking through MLflow: one parent run per engagement."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def default_tracking_uri(project_dir: Path) -> str:
    """``sqlite:///<project>/.crispml/mlflow.db``: the embedded default store."""
    store = (project_dir / ".crispml").resolve()
    store.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store / 'mlflow.db'}"


def _create_store_atomically(uri: str) -> None:
    """Create a new local SQLite store under a temporary name, then rename it into place.

    MLflow creates its tables on first use, in many statements; a process killed in the
    middle would leave a store that no later run can open ("table ... already exists").
    """
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists():
        return
    import mlflow

    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{temp}").search_experiments()
    os.replace(temp, path)


class EngagementTracker:
    """One MLflow run per engagement: opened before the run folder is sealed.

    Parameters
    ----------
    uri : str
        Tracking URI (``sqlite:///...`` by default, or a tracking server).
    experiment : str
        Experiment name (the project's name).
    artifact_root : Path, optional
        Where a new experiment stores artifacts (for the local store).
    """

    def __init__(self, uri: str, experiment: str, *, artifact_root: Path | None = None) -> None:
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        import mlflow

        self.uri = uri
        self.experiment = experiment
        _create_store_atomically(uri)
        self._client = mlflow.MlflowClient(tracking_uri=uri)
        found = self._client.get_experiment_by_name(experiment)
        if found is None:
            location = artifact_root.resolve().as_uri() if artifact_root is not None else None
            self.experiment_id = self._client.create_experiment(
                experiment, artifact_location=location
            )
        else:
            self.experiment_id = found.experiment_id
        self.run_id: str | None = None

    def start(self, run_name: str, tags: Mapping[str, str] | None = None) -> str:
        """Create the MLflow run and return its id."""
        run = self._client.create_run(self.experiment_id, run_name=run_name, tags=dict(tags or {}))
        self.run_id = run.info.run_id
        return self.run_id

    def log(self, params: Mapping[str, Any], metrics: Mapping[str, float | None]) -> None:
        """Log flat parameters and metrics in one batch."""
        from mlflow.entities import Metric, Param

        stamp = int(time.time() * 1000)
        self._client.log_batch(
            self._require_run(),
            metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items() if v is not None],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        )

    def log_child_run(
        self,
        name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float | None],
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a finished child run of the engagement run (e.g. one of the top-k trials).

        Returns
        -------
        str
            The child run's id.
        """
        from mlflow.entities import Metric, Param

        parent = self._require_run()
        child = self._client.create_run(
            self.experiment_id,
            run_name=name,
            tags={"mlflow.parentRunId": parent, **dict(tags or {})},
        )
        stamp = int(time.time() * 1000)
        self._client.log_batch(
            child.info.run_id,
            metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items() if v is not None],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        )
        self._client.set_terminated(child.info.run_id, "FINISHED")
        return str(child.info.run_id)

    def log_artifacts(self, folder: Path) -> None:
        """Upload every file of ``folder`` as the run's artifacts."""
        self._client.log_artifacts(self._require_run(), str(folder))

    def finish(self, status: str = "FINISHED") -> None:
        """Close the run with ``FINISHED`` or ``FAILED``."""
        if self.run_id is not None:
            self._client.set_terminated(self.run_id, status)

    def _require_run(self) -> str:
        if self.run_id is None:
            raise RuntimeError("EngagementTracker.start() must be called first")
        return self.run_id


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into dotted keys (for MLflow params).

    Parameters
    ----------
    data : mapping
        Nested mappings of plain values.
    prefix : str, default=""
        Prepended to every key.

    Returns
    -------
    dict

    Examples
    --------
    >>> flatten({"a": {"b": 1}, "c": [1, 2]})
    {'a.b': 1, 'c': '[1, 2]'}
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            out[name] = str(list(value))
        else:
            out[name] = value
    return out
