"""Optuna studies of the search, one per family, kept in SQLite so a killed run resumes."""

from __future__ import annotations

import hashlib
import shutil
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

STUDY_FILE = "optuna.db"
OUTPUTS_DIR = "search-outputs"
SIZE_EXCESS = "size_excess_mb"
"""Trial constraint: megabytes above ``deployment.max_model_mb`` (feasible when <= 0)."""


def study_key(*parts: Any) -> str:
    """Return a short stable hash naming the studies of one problem (data and settings)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
        digest.update(b"|")
    return digest.hexdigest()[:12]


class StudyStore:
    """Per-family Optuna studies plus the out-of-fold predictions of finished trials.

    Parameters
    ----------
    directory : Path or None
        The project's ``.crispml`` folder; ``None`` keeps everything in memory.
    key : str
        Names the studies (see :func:`study_key`); a resumed run must have the same key.
    direction : {"maximize", "minimize"}
        Of the primary metric.
    seed : int
        Seeds each family's TPE sampler.
    resume : bool
        Keep the finished trials of an earlier, interrupted run; otherwise start afresh.
    """

    def __init__(
        self, directory: Path | None, key: str, *, direction: str, seed: int, resume: bool
    ) -> None:
        import optuna  # loaded when a search runs, not when crispml is imported

        self.key, self.direction, self.seed = key, direction, seed
        self.outputs: Path | None = None
        self._storage: Any
        if directory is None:
            self._storage = optuna.storages.InMemoryStorage()
        else:
            directory.mkdir(parents=True, exist_ok=True)
            self._storage = optuna.storages.RDBStorage(f"sqlite:///{directory / STUDY_FILE}")
            self.outputs = directory / OUTPUTS_DIR / key
            if not resume:
                self._forget()
            self.outputs.mkdir(parents=True, exist_ok=True)
        self._studies: dict[str, optuna.Study] = {}

    @property
    def url(self) -> str | None:
        """The SQLite URL of the studies, if stored on disk."""
        return getattr(self._storage, "url", None)

    def study(self, family: str) -> optuna.Study:
        """Return the study of ``family`` (created, or loaded with stale running trials failed)."""
        import optuna
        from optuna.trial import TrialState

        if family not in self._studies:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(
                    seed=self.seed + zlib.crc32(family.encode()) % 10_000,
                    multivariate=True,
                    group=True,
                    n_startup_trials=4,
                )
            study = optuna.create_study(
                storage=self._storage,
                study_name=self._name(family),
                direction=self.direction,  # type: ignore[arg-type]
                sampler=sampler,
                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
                load_if_exists=True,
            )
            for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                # Left running by a killed process: it will never finish.
                self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            self._studies[family] = study
        return self._studies[family]

    def finished(self, family: str) -> list[FrozenTrial]:
        """Completed trials of ``family`` (those a resumed run keeps)."""
        from optuna.trial import TrialState

        return self.study(family).get_trials(deepcopy=False, states=(TrialState.COMPLETE,))

    def save_output(self, family: str, number: int, output: np.ndarray) -> None:
        """Keep a finished trial's out-of-fold predictions (for the ensemble after a resume)."""
        if self.outputs is not None:
            np.save(self.outputs / f"{family}-{number}.npy", output)

    def load_output(self, family: str, number: int) -> np.ndarray | None:
        """Return the saved out-of-fold predictions of a trial, if any."""
        if self.outputs is None:
            return None
        path = self.outputs / f"{family}-{number}.npy"
        return np.load(path) if path.is_file() else None

    def _name(self, family: str) -> str:
        return f"crispml-{self.key}-{family}"

    def _forget(self) -> None:
        """Delete the studies and outputs of an earlier run with the same key."""
        import optuna

        prefix = f"crispml-{self.key}-"
        for summary in optuna.get_all_study_summaries(self._storage, include_best_trial=False):
            if summary.study_name.startswith(prefix):
                optuna.delete_study(study_name=summary.study_name, storage=self._storage)
        if self.outputs is not None and self.outputs.exists():
            shutil.rmtree(self.outputs)
