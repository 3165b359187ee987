"""The threshold trade-off equals fairlearn's group rates at every threshold of the grid."""

import numpy as np
import pytest

from crispml.evaluate._fairness import group_rates
from crispml.evaluate._group_evidence import threshold_tradeoff


def test_the_tradeoff_equals_fairlearns_rates_and_accuracy_at_every_threshold():
    rng = np.random.default_rng(3)
    n = 1500
    y = rng.integers(0, 2, n)
    p1 = np.round(rng.random(n), 2)  # ties at many thresholds
    groups = rng.choice(np.array(["a", "b", "c"]), n)
    groups[:30], y[:30] = "only_negatives", 0
    groups[30:45], y[30:45] = "only_positives", 1
    rows = threshold_tradeoff(y, p1, groups, favourable=0, delivered=0.3137, keep=["a", "b", "c"])
    assert sum(r["delivered"] for r in rows) == 1 and len(rows) == 20
    for row in rows:
        pred = (p1 >= row["threshold"]).astype(int)
        expected = group_rates(y, pred, groups, "selection_rate", "fpr", "fnr")
        for group in expected.index:
            for name in ("selection_rate", "fpr", "fnr"):
                assert row[f"{group}: {name}"] == pytest.approx(expected.loc[group, name])
        assert row["accuracy"] == pytest.approx((pred == y).mean())
        favoured = 1 - expected.loc[["a", "b", "c"], "selection_rate"]
        assert row["adverse_impact_ratio"] == pytest.approx(favoured.min() / favoured.max())
