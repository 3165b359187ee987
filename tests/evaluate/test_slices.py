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


def test_every_level_and_row_is_shown_with_rounded_edges():
    rng = np.random.default_rng(9)
    n = 400
    X = pd.DataFrame(
        {
            "dir": rng.uniform(-0.00015000000000000007, 1.1, size=n) * 0.7,
            "mcs": rng.choice([1.0, 2.0, 3.0, 4.0], size=n, p=[0.5, 0.4, 0.05, 0.05]),
            "dmi": np.where(np.arange(n) < 9, "yes", "no"),
        }
    )
    X.loc[:4, "dir"] = np.nan
    y, out, _ = _planted_outputs(X.assign(city="north", x=0.0), 10)
    report = slice_report(X, y, out, task="binary", n_resamples=50, min_size=20)
    segments = report["segments"]
    dmi = {s["slice"]: s for s in segments["dmi"]}
    assert dmi["yes"]["size"] == 9 and dmi["yes"]["small"]
    assert not dmi["no"]["small"]
    assert [s["slice"] for s in segments["mcs"]] == ["1", "2", "3", "4"]
    for column in X.columns:
        assert sum(s["size"] for s in segments[column]) == n
    labels = [s["slice"] for s in segments["dir"]]
    assert labels[-1] == "missing"
    assert labels[0].startswith("<= ") and labels[-2].startswith("> ")
    for label in labels[:-1]:
        for number in label.replace("<= ", "").replace("> ", "").split(" to "):
            assert len(number.lstrip("-0.").replace(".", "")) <= 3, label


def test_rare_levels_beyond_the_cap_are_pooled_not_dropped():
    levels = [f"l{i:02d}" for i in range(40)]
    X = pd.DataFrame({"c": [levels[i % 40] for i in range(800)]})
    y = np.zeros(800, dtype=int)
    out = np.c_[np.full(800, 0.8), np.full(800, 0.2)]
    segments = slice_report(X, y, out, task="binary", n_resamples=10)["segments"]["c"]
    assert len(segments) == 31
    assert segments[-1]["slice"].startswith("other (10 rarer")
    assert sum(s["size"] for s in segments) == 800


def test_large_segment_error_rate_interval_matches_the_weight_bootstrap(monkeypatch):
    from crispml.evaluate import _slices

    rng = np.random.default_rng(3)
    err = (rng.random(30_000) < 0.2).astype(float)
    every = np.ones(len(err), dtype=bool)
    binomial = _slices._segment("all", every, err, 2000, 0)
    monkeypatch.setattr(_slices, "BINOMIAL_ROWS", 10**9)  # force the row-weight bootstrap
    weights = _slices._segment("all", every, err, 2000, 0)
    assert binomial["estimate"] == weights["estimate"] == err.mean()
    assert binomial["low"] < err.mean() < binomial["high"]
    # the same distribution: both ends agree within the resampling noise of 2,000 draws
    assert abs(binomial["low"] - weights["low"]) < 1e-3
    assert abs(binomial["high"] - weights["high"]) < 1e-3
