"""Less discriminatory alternatives: Pareto front, the named alternative, test set unused."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from crispml.data import load_table, make_split, prepare_dataset
from crispml.evaluate import AlternativesResult
from crispml.evaluate._alternatives import (
    Scored,
    Setting,
    compare,
    disparity_value,
    measure,
    measures_for,
    recompute,
)
from crispml.evaluate._alternatives_phase import alternatives_phase
from crispml.search import search_models
from crispml.spec import spec_from_dict

SETTING = Setting(
    metric="roc_auc",
    measures=("adverse_impact_ratio", "equalized_odds_difference"),
    favourable=0,
    n_resamples=200,
    seed=0,
)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _planted(n=4000, seed=0):
    """Labels lean on the group a little; model outputs lean on it in planted amounts."""
    rng = np.random.default_rng(seed)
    b = (rng.uniform(size=n) < 0.3).astype(float)
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < _sigmoid(2.0 * x + 0.4 * b - 0.5)).astype(int)
    groups = {"group": np.where(b == 1, "b", "a").astype(object)}
    outputs = {
        "leans_on_group": _sigmoid(2.0 * x + 1.2 * b - 0.5),  # delivered: best by a hair
        "blind": _sigmoid(2.0 * x - 0.4),  # same ranking power, little disparity
        "heavy": _sigmoid(2.0 * x + 3.0 * b - 0.5),  # worse and more unequal
        "noisy": _sigmoid(0.5 * x + rng.normal(size=n)),  # far below the delivered CI
    }
    return y, groups, outputs


def _points(y, groups, outputs):
    scored = [
        Scored(name, "test", "delivered" if i == 0 else "candidate", np.c_[1 - p, p], 0.5)
        for i, (name, p) in enumerate(outputs.items())
    ]
    return [measure(s, y, groups, SETTING) for s in scored]


def _axes(point, lead="adverse_impact_ratio"):
    return point.primary.estimate, disparity_value(lead, point.disparity[lead].estimate)


def test_front_is_non_dominated_and_the_alternative_keeps_the_metric_and_lowers_disparity():
    y, groups, outputs = _planted()
    points, name = compare(
        _points(y, groups, outputs), metric="roc_auc", lead="adverse_impact_ratio"
    )
    front = [p for p in points if p.pareto]
    assert front
    for p in front:  # nothing is at least as good on both axes and better on one
        q_p, d_p = _axes(p)
        for other in points:
            q_o, d_o = _axes(other)
            assert not (q_o >= q_p and d_o <= d_p and (q_o > q_p or d_o < d_p))
    for p in points:  # every point off the front is dominated by a front point
        if not p.pareto:
            q_p, d_p = _axes(p)
            assert any(_axes(f)[0] >= q_p and _axes(f)[1] <= d_p for f in front)
    assert name == "blind"
    delivered, chosen = points[0], next(p for p in points if p.name == name)
    assert chosen.within_ci and chosen.pareto
    assert chosen.primary.estimate >= delivered.primary.low
    assert _axes(chosen)[1] < _axes(delivered)[1]
    assert (
        chosen.disparity["adverse_impact_ratio"].estimate
        > 0.8
        > (delivered.disparity["adverse_impact_ratio"].estimate)
    )
    noisy = next(p for p in points if p.name == "noisy")
    assert not noisy.within_ci


def test_no_alternative_when_none_within_the_interval_is_fairer():
    y, groups, outputs = _planted()
    kept = {k: outputs[k] for k in ("blind", "heavy", "noisy")}  # the fairest is delivered
    points, name = compare(_points(y, groups, kept), metric="roc_auc", lead="adverse_impact_ratio")
    assert name is None
    assert points[0].pareto


def test_lead_measure_is_the_first_criterion_and_base_measures_are_always_compared():
    assert measures_for(["equalized_odds_difference", "demographic_parity_difference"]) == (
        "equalized_odds_difference",
        "demographic_parity_difference",
        "adverse_impact_ratio",
    )
    assert disparity_value("adverse_impact_ratio", None) != disparity_value(
        "adverse_impact_ratio", None
    )  # NaN: undefined never wins
    assert math.isclose(disparity_value("demographic_parity_ratio", 0.9), 0.1)


# --- the phase: the search's own candidates, the test set only after the choice ---------

SPEC = {
    "name": "alternatives",
    "problem": {
        "task": "binary",
        "target": "denied",
        "positive_label": "yes",
        "favourable_label": "no",
    },
    "data": {"source": "in-memory"},
    "split": {"test_size": 0.25, "valid_size": 0.2, "strategy": "stratified", "seed": 0},
    "fairness": {
        "protected": ["group"],
        "criteria": {"adverse_impact_ratio": ">= 0.8"},
    },
    "evaluation": {"bootstrap": 100},
    "tracking": {"enabled": False},
}


def _lending(n=1200, seed=1):
    """Denials driven by income; ``zone`` is a proxy of the group that carries a planted bias."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.7, 0.3])
    zone = np.where(rng.uniform(size=n) < 0.85, group, np.where(group == "a", "b", "a"))
    income = rng.normal(size=n)
    logit = -1.5 * income + 0.6 * (group == "b") - 0.8
    denied = np.where(rng.uniform(size=n) < _sigmoid(logit), "yes", "no")
    return pd.DataFrame(
        {"income": income, "zone": zone, "debt": rng.normal(size=n), "group": group,
         "denied": denied}
    )  # fmt: skip


@pytest.fixture(scope="module")
def engagement(tmp_path_factory):
    spec = spec_from_dict(SPEC, source="test")
    table = load_table(_lending())
    dataset = prepare_dataset(table, spec, store=tmp_path_factory.mktemp("store"))
    split = make_split(dataset.frame, spec.split, target="denied")
    result = search_models(
        dataset.features(split.train), dataset.y[split.train],
        dataset.features(split.valid), dataset.y[split.valid],
        schema=dataset.schema, task="binary", metric="roc_auc",
        families=["lightgbm", "elastic_net"], deterministic=True, max_trials=4, seed=0,
        validation="cv", n_jobs=1,
    )  # fmt: skip
    model = result.best.pipeline
    test_out = np.asarray(model.predict_proba(dataset.features(split.test)))
    return spec, dataset, split, result, model, test_out


def test_phase_compares_the_search_candidates_on_out_of_fold_rows(engagement):
    spec, dataset, split, result, model, test_out = engagement
    alt, table = alternatives_phase(spec, dataset, split, result, model, 0.5, test_out)
    assert isinstance(alt, AlternativesResult)
    assert alt.points[0].kind == "delivered" and alt.delivered == result.best.name
    assert alt.n_rows == len(split.train) + len(split.valid)
    assert alt.lead_measure == "adverse_impact_ratio"
    assert len({p.name for p in alt.points}) == len(alt.points) >= 3
    assert all(p.primary.low <= p.primary.estimate <= p.primary.high for p in alt.points)
    if alt.alternative is not None:
        chosen = alt.point(alt.alternative)
        assert chosen.within_ci and chosen.kind == "candidate"
        assert chosen.disparity["adverse_impact_ratio"].estimate > (
            alt.points[0].disparity["adverse_impact_ratio"].estimate
        )
    assert AlternativesResult.from_json(alt.to_json()) == alt
    # the saved table gives every figure again, bit for bit (what crispml verify checks)
    assert set(table["part"]) <= {"held_out", "test"}
    assert (table["part"] == "held_out").sum() == alt.n_rows
    assert recompute(alt, table) == alt
    tampered = table.copy()
    column = f"p:{alt.points[1].name}"
    tampered[column] = tampered[column].sample(frac=1.0, random_state=0).to_numpy()
    assert recompute(alt, tampered).points[1].primary != alt.points[1].primary


def test_choice_does_not_change_when_test_labels_are_shuffled(engagement):
    spec, dataset, split, result, model, test_out = engagement
    before, _ = alternatives_phase(spec, dataset, split, result, model, 0.5, test_out)
    y = dataset.y.copy()
    y[split.test] = np.random.default_rng(7).permutation(y[split.test])
    shuffled = dataclasses.replace(dataset, y=y)
    after, _ = alternatives_phase(spec, shuffled, split, result, model, 0.5, test_out)
    assert after.points == before.points
    assert after.alternative == before.alternative
    if before.test:  # the diagnostic does read test labels, after the choice
        assert after.test != before.test


def test_threshold_optimizer_is_one_more_point_never_the_named_alternative(engagement):
    spec, dataset, split, result, model, test_out = engagement
    mitigating = spec.model_copy(
        update={"fairness": spec.fairness.model_copy(update={"mitigate": "threshold_optimizer"})}
    )
    alt, table = alternatives_phase(mitigating, dataset, split, result, model, 0.5, test_out)
    assert set(np.unique(table["p:threshold_optimizer"].dropna())) <= {0.0, 1.0}
    assert recompute(alt, table) == alt
    mitigated = [p for p in alt.points if p.kind == "mitigated"]
    assert [p.name for p in mitigated] == ["threshold_optimizer"]
    assert mitigated[0].threshold is None and "protected attribute" in mitigated[0].note
    assert alt.alternative != "threshold_optimizer"
    # demographic parity post-processing brings the favourable rates closer
    assert mitigated[0].disparity["adverse_impact_ratio"].estimate > (
        alt.points[0].disparity["adverse_impact_ratio"].estimate
    )


def test_no_result_without_protected_columns(engagement):
    spec, dataset, split, result, model, test_out = engagement
    plain = spec.model_copy(
        update={"fairness": spec.fairness.model_copy(update={"protected": ()})}
    )
    assert alternatives_phase(plain, dataset, split, result, model, 0.5, test_out) is None


def test_holdout_search_is_compared_on_the_validation_split(engagement):
    spec, dataset, split, _, _, _ = engagement
    result = search_models(
        dataset.features(split.train), dataset.y[split.train],
        dataset.features(split.valid), dataset.y[split.valid],
        schema=dataset.schema, task="binary", metric="roc_auc",
        families=["elastic_net"], deterministic=True, max_trials=2, seed=0,
        validation="holdout", n_jobs=1,
    )  # fmt: skip
    model = result.best.pipeline
    test_out = np.asarray(model.predict_proba(dataset.features(split.test)))
    alt, table = alternatives_phase(spec, dataset, split, result, model, 0.5, test_out)
    assert alt.n_rows == len(split.valid) and "validation split" in alt.basis
    assert alt.points[0].primary.estimate == pytest.approx(result.best.valid_score)
    assert recompute(alt, table) == alt


def test_the_other_candidates_take_fewer_resamples_and_verify_the_same(engagement, monkeypatch):
    import crispml.evaluate._alternatives_phase as phase

    spec, dataset, split, result, model, test_out = engagement
    monkeypatch.setattr(phase, "ALTERNATIVE_RESAMPLES", 40)
    alt, table = alternatives_phase(spec, dataset, split, result, model, 0.5, test_out)
    assert (alt.n_resamples, alt.others_resamples) == (spec.evaluation.bootstrap, 40)
    assert recompute(alt, table) == alt  # crispml verify measures each point as it was
    # measured with the delivered point's count instead, an other's interval differs
    same = alt.model_copy(update={"others_resamples": None})
    assert recompute(same, table).points[1].primary != alt.points[1].primary
