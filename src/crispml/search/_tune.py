"""Optuna's TPE over a named choice and that choice's small parameter space.

Shared by the searches that pick one of a few registered estimators (anomaly detectors,
rankers) and tune it: each space maps a parameter to ``(kind, low, high)`` with kind
``int``, ``float`` or ``log`` (a float searched on a log scale).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crispml.search._candidate import Candidate
from crispml.search._deadline import Deadline

Space = Mapping[str, tuple[str, float, float]]


def tune_choices(
    fit: Callable[[str, dict[str, Any], str], Candidate],
    spaces: Mapping[str, Space],
    n_trials: int,
    deadline: Deadline | None,
    seed: int,
    *,
    choice: str,
) -> list[Candidate]:
    """Run TPE trials that maximise each candidate's ``valid_score``.

    Parameters
    ----------
    fit : callable
        ``fit(name, params, label)`` fits and scores one configuration.
    spaces : mapping
        Choice name -> its parameter space.
    n_trials : int
        Most trials run.
    deadline : Deadline or None
        Stop when it expires (``None``: count trials only, for deterministic runs).
    seed : int
        Seed of the sampler.
    choice : str
        Name of the categorical parameter (e.g. ``detector``, ``ranker``).

    Returns
    -------
    list of Candidate
        One per finished trial, labelled ``name-N``.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    found: list[Candidate] = []

    def objective(trial: optuna.Trial) -> float:
        name = trial.suggest_categorical(choice, list(spaces))
        params: dict[str, Any] = {}
        for key, (kind, low, high) in spaces[name].items():
            if kind == "int":
                params[key] = trial.suggest_int(f"{name}.{key}", int(low), int(high))
            else:
                params[key] = trial.suggest_float(f"{name}.{key}", low, high, log=kind == "log")
        cand = fit(name, params, f"{name}-{trial.number + 1}")
        found.append(cand)
        return float(cand.valid_score if cand.valid_score is not None else float("-inf"))

    timeout = None if deadline is None else max(deadline.remaining(), 1e-3)
    study.optimize(objective, n_trials=n_trials, timeout=timeout)
    return found
