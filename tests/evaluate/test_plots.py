"""Evaluation plots draw on Figure objects: SVG out, no pyplot, no backend switch."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
import matplotlib
raw_backend = lambda: dict.get(matplotlib.rcParams, "backend")  # no resolution (no pyplot)
before = raw_backend()
from crispml.evaluate._calibration import plot_reliability
from crispml.evaluate._plots import plot_fairness, plot_importance
ci = lambda e: {"estimate": e, "low": e - 0.1, "high": e + 0.1}
groups = {
    "f": {"selection_rate": ci(0.3), "count": 40},
    "m": {"selection_rate": ci(0.5), "count": 60},
}
fair = {"attributes": {"sex": {"by_group": groups}}}
imp = {"method": "permutation", "importance": [{"column": "a", "importance": 0.2}]}
points = [{"predicted": 0.2, "observed": 0.25}, {"predicted": 0.8, "observed": 0.7}]
bins = {"ece": 0.05, "bins": points}
svgs = [plot_fairness(fair), plot_importance(imp), plot_reliability({"uncalibrated": bins})]
print(json.dumps({
    "svg": [s.startswith(b"<?xml") and b"<svg" in s for s in svgs],
    "pyplot": "matplotlib.pyplot" in sys.modules,
    "same_backend": raw_backend() is before,
}))
"""


def test_plots_are_svg_without_pyplot_or_a_backend_switch():
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"svg": [True, True, True], "pyplot": False, "same_backend": True}


def test_regression_groups_draw_their_metric_not_a_count():
    from crispml.evaluate._plots import plot_fairness

    rmse = {"estimate": 50.0, "low": 45.0, "high": 56.0}
    groups = {  # as fairness.json writes a regression attribute
        g: {"count": 60, "positives": 0, "negatives": 60, "rmse": rmse} for g in ("f", "m")
    }
    svg = plot_fairness({"attributes": {"sex": {"by_group": groups}}}).decode()
    assert svg.startswith("<?xml") and "rmse" in svg
