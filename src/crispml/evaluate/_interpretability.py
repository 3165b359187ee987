"""The price of interpretability: best glass-box model vs best model, on the same test rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml._metrics import METRICS, score
from crispml.evaluate._bootstrap import bootstrap_draws, percentile_interval, weighted_metric
from crispml.evaluate._holdout import TestOutputs
from crispml.models import get_family, predict_output
from crispml.search import Candidate, SearchResult

SCHEMA_VERSION = 1


def _is_glass_box(cand: Candidate) -> bool:
    try:
        return bool(get_family(cand.family).glass_box)
    except KeyError:
        return False


def price_of_interpretability(
    result: SearchResult,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    *,
    task: str,
    n_resamples: int = 1000,
    seed: int = 0,
    outputs: TestOutputs | None = None,
) -> dict[str, Any]:
    """Compare the best glass-box candidate with the selected model on test.

    Both are the best of their kind on validation (selection never looks at test). The
    price is how much worse the glass-box model scores on the primary metric (positive
    = the glass-box model is worse), with a paired bootstrap interval: every resample
    scores both models on the same rows.

    Parameters
    ----------
    result : SearchResult
        The finished search (glass-box families are those with ``glass_box = True``).
    X_test, y_test : frame and array
        Conformed test rows and encoded target.
    task : str
        binary, multiclass or regression.
    n_resamples, seed : int
        Bootstrap of the paired difference.
    outputs : TestOutputs, optional
        The candidates' test outputs, when already computed (reused, not predicted again).

        .. versionadded:: 0.3

    Returns
    -------
    dict
        ``metric``, ``best`` and ``glass_box`` (name, family, test score), ``price``
        (``{estimate, low, high}``), or a ``note`` when no glass-box model was fitted.
    """
    metric = result.metric
    ok = [c for c in result.candidates if c.status == "ok" and c.pipeline is not None]
    glass = [c for c in ok if _is_glass_box(c) and c.valid_score is not None]
    best = result.best
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "metric": metric}
    if not glass:
        out["note"] = "no glass-box model was fitted (enable search.baselines)"
        return out
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    top = max(glass, key=lambda c: sign * float(c.valid_score))  # type: ignore[arg-type]
    y = np.asarray(y_test)
    out_best = _output(best, X_test, task, outputs)
    out_glass = _output(top, X_test, task, outputs)
    s_best, s_glass = score(metric, y, out_best), score(metric, y, out_glass)

    def stat(w: np.ndarray) -> np.ndarray:
        diff = weighted_metric(metric, y, out_best, w) - weighted_metric(metric, y, out_glass, w)
        return np.asarray(sign * diff, dtype=np.float64)

    draws = bootstrap_draws(stat, len(y), n_resamples=n_resamples, seed=seed)
    out.update(
        {
            "best": {"name": best.name, "family": best.family, "test": s_best},
            "glass_box": {"name": top.name, "family": top.family, "test": s_glass},
            "best_is_glass_box": _is_glass_box(best),
            "price": percentile_interval(
                sign * (s_best - s_glass) + 0.0, draws, n=len(y)
            ).to_dict(),
            "price_meaning": f"how much worse the glass-box model's test {metric} is",
        }
    )
    return out


def _output(
    cand: Candidate, X_test: pd.DataFrame, task: str, outputs: TestOutputs | None
) -> np.ndarray:
    """``cand``'s test output: the one already computed, else predicted now."""
    known = outputs.of(cand) if outputs is not None else None
    return known if known is not None else predict_output(cand.pipeline, X_test, task)
