import numpy as np
import pandas as pd

from crispml.evaluate import row_errors, slice_report


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.uniform(size=n),
            "z": rng.normal(size=n),
            "city": rng.choice(["north", "south", "east"], size=n),
        }
    )


def _planted_outputs(X, seed):
    """A model that is right except on city == 'east' and x > 0.6, where it is often wrong."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, len(X))
    bad = ((X["city"] == "east") & (X["x"] > 0.6)).to_numpy()
    confident = np.where(y == 1, 0.9, 0.1)
    flipped = np.where(rng.uniform(size=len(X)) < 0.7, 1 - confident, confident)
    p1 = np.where(bad, flipped, confident)
    return y, np.c_[1 - p1, p1], bad


def test_planted_bad_slice_is_found_and_ranked_first():
    Xv, Xt = _frame(3000, 1), _frame(3000, 2)
    yv, ov, _ = _planted_outputs(Xv, 3)
    yt, ot, bad = _planted_outputs(Xt, 4)
    report = slice_report(
        Xt, yt, ot, task="binary", X_valid=Xv, y_valid=yv, output_valid=ov, n_resamples=200
    )
    worst = report["worst_slices"][0]
    assert "city == 'east'" in worst["slice"] and "x > 0.6" in worst["slice"]
    assert abs(worst["size"] - bad.sum()) <= 0.05 * bad.sum()
    assert worst["low"] > report["overall"]["high"]
    assert report["overall"]["size"] == 3000


def test_segments_cover_levels_and_quartiles():
    X = _frame(2000, 5)
    y, out, _ = _planted_outputs(X, 6)
    report = slice_report(X, y, out, task="binary", n_resamples=100)
    cities = {s["slice"]: s for s in report["segments"]["city"]}
    assert set(cities) == {"north", "south", "east"}
    assert cities["east"]["estimate"] > cities["north"]["estimate"]
    assert len(report["segments"]["x"]) == 4
    assert sum(s["size"] for s in report["segments"]["x"]) == 2000
    assert report["worst_slices"] == []  # no validation rows given: no slice finder


def test_worst_rows_are_the_largest_errors():
    X = _frame(500, 7)
    y, out, _ = _planted_outputs(X, 8)
    ids = [f"r{i}" for i in range(500)]
    report = slice_report(X, y, out, task="binary", top_k=5, ids=ids, n_resamples=10)
    errors = row_errors(y, out, task="binary")
    rows = report["worst_rows"]
    assert len(rows) == 5
    assert rows[0]["error"] == errors.max()
    assert rows[0]["id"] == ids[rows[0]["position"]]


def test_regression_error_is_absolute():
    assert row_errors(np.array([1.0, 2.0]), np.array([1.5, 0.0]), task="regression").tolist() == [
        0.5,
        2.0,
    ]
