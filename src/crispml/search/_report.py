"""Writing the search's record: trials table, folds, and top-k MLflow child runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from crispml._metrics import METRICS
from crispml.search._candidate import SearchResult

if TYPE_CHECKING:
    from crispml.tracking import EngagementTracker


def trials_table(result: SearchResult) -> pd.DataFrame:
    """One row per candidate: name, family, status, score, fit time, parameters.

    Parameters
    ----------
    result : SearchResult
        A finished search.

    Returns
    -------
    pandas.DataFrame
        In the order the candidates ran; ``params`` and ``info`` as JSON text.
    """
    rows = [
        {
            "name": c.name,
            "family": c.family,
            "baseline": c.baseline,
            "status": c.status,
            f"valid_{result.metric}": c.valid_score,
            "fit_s": round(c.fit_s, 3),
            "selected": c is result.best,
            "params": json.dumps(c.params, sort_keys=True, default=str),
            "info": json.dumps(
                {k: v for k, v in c.info.items() if k != "trace"}, sort_keys=True, default=str
            ),
        }
        for c in result.candidates
    ]
    return pd.DataFrame(rows)


def record_search(
    result: SearchResult,
    folder: Any,
    *,
    tracker: EngagementTracker | None = None,
    top_k: int = 5,
) -> None:
    """Write ``search/trials.csv`` and ``search/folds.json``; track the top-k in MLflow.

    The budget (planned vs used per phase and per search stage) is written by the
    engagement as the typed :class:`~crispml.search.RunBudget` (``budget.json``).

    Parameters
    ----------
    result : SearchResult
        A finished search.
    folder : RunFolder
        The run folder being written (``write_text`` / ``write_json``).
    tracker : EngagementTracker, optional
        The engagement's MLflow run; the ``top_k`` best candidates become child runs
        (every trial is in the ``trials.csv`` artifact: thousands of child runs would make
        the MLflow UI unusable).
    top_k : int, default=5
        How many candidates get a child run.
    """
    folder.write_text("search/trials.csv", trials_table(result).to_csv(index=False))
    folder.write_json("search/folds.json", result.validation)
    if tracker is None or top_k <= 0:
        return
    sign = 1.0 if METRICS[result.metric].greater_is_better else -1.0
    ranked = sorted(
        (c for c in result.candidates if c.status == "ok" and c.valid_score is not None),
        key=lambda c: -sign * c.valid_score,  # type: ignore[operator]
    )
    for cand in ranked[:top_k]:
        params = {"family": cand.family, **{f"param.{k}": v for k, v in cand.params.items()}}
        tracker.log_child_run(
            cand.name,
            params,
            {f"valid_{result.metric}": cand.valid_score, "fit_s": cand.fit_s},
            tags={"crispml.selected": str(cand is result.best).lower()},
        )
