"""``deployment.latency_sla_ms`` as a constraint of the selection (predicted from the trees)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from crispml.models import WeightedEnsemble
from crispml.search import Candidate, plan_validation, search_models
from crispml.search._finish import build_ensemble
from crispml.search._latency import NS_PER_NODE, node_visits, predicted_latency_ms
from crispml.search._trial import FoldData

SLA_MS = 0.0005  # 500 ns: 25 tree nodes per row


def test_the_prediction_follows_the_trees_and_ensembles_add_up():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    forest = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(X, y)
    linear = LogisticRegression().fit(X, y)
    depths = [e.tree_.max_depth for e in forest.estimators_]
    assert node_visits(tree) == 3
    assert node_visits(forest) == sum(depths) > 20 * 3
    assert predicted_latency_ms(forest) == pytest.approx(sum(depths) * NS_PER_NODE / 1e6)
    assert predicted_latency_ms(linear) == 0.0
    both = WeightedEnsemble(members=[tree, forest], weights=[0.5, 0.5], task="binary").fit()
    assert node_visits(both) == node_visits(tree) + node_visits(forest)


def test_a_tiny_sla_excludes_the_forests_and_keeps_a_small_model(binary_data):
    schema, Xt, yt, Xv, yv = binary_data
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="binary", metric="roc_auc", seed=0,
        families=("random_forest", "extra_trees"), deterministic=True, max_trials=2,
        validation="holdout", latency_sla_ms=SLA_MS,
    )  # fmt: skip
    forests = [c for c in result.candidates if c.family in ("random_forest", "extra_trees")]
    assert forests and all(c.status == "excluded" for c in forests)
    for cand in forests:
        assert "deployment.latency_sla_ms 0.0005 ms" in cand.info["excluded"]
        assert cand.info["predicted_ms"] > SLA_MS
        assert cand.pipeline is None
    assert result.best.status == "ok"
    assert result.best.family not in ("random_forest", "extra_trees")
    assert result.best.info["predicted_ms"] <= SLA_MS


def _candidate(name, output, ms):
    return Candidate(
        name, "tree", {}, valid_score=None, valid_output=output, info={"predicted_ms": ms}
    )


def test_an_ensemble_predicted_too_slow_is_not_selected():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=200)
    noise = [rng.normal(0, 1.0, size=200) for _ in range(2)]
    # two weak, independent views of y: together they score better than either
    outputs = [np.clip(0.5 + 0.25 * (2 * y - 1) + 0.3 * n, 0.01, 0.99) for n in noise]
    plan = plan_validation(y, 100, task="binary", mode="holdout", seed=0)
    from crispml._metrics import score

    cands = []
    for i, (out, ms) in enumerate(zip(outputs, (0.0003, 0.0004), strict=True)):
        proba = np.c_[1 - out, out]
        cand = _candidate(f"m{i}", proba, ms)
        cand.valid_score = score("roc_auc", y[plan.scored], proba[plan.scored])
        cands.append(cand)
    best = max(cands, key=lambda c: c.valid_score)

    def build(sla):
        data = FoldData(None, y, plan, None, "binary", latency_sla_ms=sla)
        return build_ensemble(cands, data, "roc_auc", best)

    free = build(None)
    assert free is not None and free.info["predicted_ms"] == pytest.approx(0.0007)
    assert build(SLA_MS) is None  # only one member fits: no ensemble


def test_the_search_gets_the_tightest_sla_target_and_none_when_nothing_is_served():
    from crispml._engagement import _tightest_sla
    from crispml.spec import spec_from_dict

    raw = {"name": "p", "problem": {"task": "binary", "target": "y"}, "data": {"source": "d"}}
    assert _tightest_sla(spec_from_dict(raw)) == 50.0  # the default p99
    sla = {"latency_sla_ms": {"p50": 5, "p95": 20, "p99": None}}
    assert _tightest_sla(spec_from_dict(raw | {"deployment": sla})) == 5.0
    unserved = {"format": "none", **sla}
    assert _tightest_sla(spec_from_dict(raw | {"deployment": unserved})) is None
