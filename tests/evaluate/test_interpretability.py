import numpy as np
import pandas as pd

from crispml.data import conform, infer_schema
from crispml.evaluate import price_of_interpretability
from crispml.search import search_models


def test_price_compares_best_glass_box_with_best_on_the_same_rows():
    rng = np.random.default_rng(0)
    n = 1200
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = ((frame["a"] * frame["b"] > 0) ^ (rng.uniform(size=n) < 0.1)).astype(int).to_numpy()
    schema = infer_schema(frame.assign(y=y), target="y")
    X = conform(frame, schema)
    result = search_models(
        X[:600],
        y[:600],
        X[600:900],
        y[600:900],
        schema=schema,
        task="binary",
        metric="roc_auc",
        families=(),
        time_budget_s=10,
    )
    out = price_of_interpretability(result, X[900:], y[900:], task="binary", n_resamples=200)
    # only baselines were fitted, so the best model is itself glass-box: no price
    assert out["best_is_glass_box"] is True
    assert out["price"]["estimate"] == 0.0
    assert out["glass_box"]["name"] == result.best.name
    # demote the selected model: the glass-box pick is the best of the rest by validation
    best = result.best
    others = [c for c in result.candidates if c is not best and c.valid_score is not None]
    result.best = min(others, key=lambda c: c.valid_score)
    out = price_of_interpretability(result, X[900:], y[900:], task="binary", n_resamples=200)
    assert out["glass_box"]["name"] == best.name
    assert out["price"]["estimate"] < 0  # the glass-box model is better here: negative price
    assert out["price"]["low"] <= out["price"]["estimate"] <= out["price"]["high"]
