"""The learned portfolio: a valid package file, and the first trials of the search."""

from __future__ import annotations

import json

from crispml.models import get_family
from crispml.search import PORTFOLIO, search_models
from crispml.search import _search as search_module
from crispml.search._portfolio import Portfolio, PortfolioEntry, load_portfolio

EXCLUDED = ("adult", "german", "credit-g", "compas", "diamond", "recidivism")


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    options = {
        "task": "binary", "metric": "roc_auc", "seed": 0, "deterministic": True,
        "baselines": False, "ensemble": False, "portfolio": True, **kwargs,
    }  # fmt: skip
    return search_models(Xt, yt, Xv, yv, schema=schema, **options)


def _trials(result):
    return [c for c in result.candidates if not c.baseline and c.status != "skipped"]


def test_the_stored_portfolio_is_valid_for_every_task():
    portfolio = load_portfolio()
    assert portfolio.problems() == []
    assert portfolio.schema_version == 1
    for task in ("binary", "multiclass", "regression"):
        entries = portfolio.configs[task]
        assert 4 <= len(entries) <= 16
        keys = [json.dumps([e.family, e.params], sort_keys=True) for e in entries]
        assert len(set(keys)) == len(keys)  # no configuration twice
        assert {e.family for e in entries} <= set(PORTFOLIO)
        corpus = portfolio.provenance.corpus[task]
        assert len(corpus) >= 5
        assert not [t for t in corpus if any(bad in t.lower() for bad in EXCLUDED)]
        figures = portfolio.provenance.leave_one_out[task]
        assert (
            len(figures.k)
            == len(figures.portfolio)
            == len(figures.search)
            == len(figures.defaults)
        )


def test_a_config_outside_its_family_space_or_an_unknown_family_is_a_problem():
    raw = json.loads(load_portfolio().to_json())
    raw["configs"]["binary"] = [
        {"family": "lightgbm", "params": {"num_leaves": 100_000}},
        {"family": "lightgbm", "params": {"n_estimators": 5}},
        {"family": "no_such_family", "params": {}},
    ]
    problems = Portfolio.model_validate(raw).problems()
    assert len(problems) == 3
    assert "num_leaves=100000 outside" in problems[0]
    assert "n_estimators is not tuned" in problems[1]
    assert "unknown family" in problems[2]


def test_the_first_trials_of_the_search_are_the_portfolio_configurations(binary_data):
    families = ("lightgbm", "elastic_net", "xgboost")
    learned = load_portfolio().for_task("binary", families)
    assert learned, "the binary portfolio has no lightgbm, elastic_net or xgboost entry"
    result = _search(binary_data, families=families, max_trials=len(learned) + 1)
    trials = _trials(result)
    got = [(c.family, c.params) for c in trials[: len(learned)]]
    assert got == [(e.family, e.params) for e in learned]


def test_families_the_portfolio_left_untried_still_get_their_default(binary_data, monkeypatch):
    learned = [PortfolioEntry(family="lightgbm", params={"num_leaves": 15})]
    monkeypatch.setattr(search_module, "load_portfolio", lambda: _only(learned))
    result = _search(binary_data, families=("lightgbm", "elastic_net"), max_trials=2)
    trials = _trials(result)
    assert [(c.family, c.params) for c in trials] == [
        ("lightgbm", {"num_leaves": 15}),
        ("elastic_net", _tuned_defaults("elastic_net")),
    ]


def test_a_portfolio_entry_equal_to_a_fitted_configuration_is_not_fitted_again(
    binary_data, monkeypatch
):
    default = _tuned_defaults("elastic_net")
    learned = [
        PortfolioEntry(family="elastic_net", params=default),
        PortfolioEntry(family="elastic_net", params=dict(default)),
        PortfolioEntry(family="elastic_net", params={**default, "C": 0.5}),
    ]
    monkeypatch.setattr(search_module, "load_portfolio", lambda: _only(learned))
    result = _search(binary_data, families=("elastic_net",), max_trials=3)
    fitted = [c.params for c in _trials(result)]
    assert fitted[:2] == [default, {**default, "C": 0.5}]
    keys = [json.dumps(p, sort_keys=True) for p in fitted]
    assert len(set(keys)) == len(keys)


def test_by_default_the_search_starts_from_the_family_defaults(binary_data):
    families = ("lightgbm", "elastic_net")
    schema, Xt, yt, Xv, yv = binary_data
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="binary", metric="roc_auc", families=families,
        deterministic=True, max_trials=2, baselines=False, ensemble=False,
    )  # fmt: skip
    assert [(c.family, c.params) for c in _trials(result)] == [
        (name, _tuned_defaults(name)) for name in families
    ]


def test_under_monotone_constraints_only_entries_of_families_that_honour_them_run(binary_data):
    families = ("lightgbm", "elastic_net", "hist_gradient_boosting", "xgboost")
    learned = load_portfolio().for_task("binary", families)
    allowed = [e for e in learned if get_family(e.family).supports_monotone][:2]
    assert allowed, "the binary portfolio has no cheap family that enforces monotone constraints"
    assert len(allowed) < len(learned)  # elastic_net's entry is left out
    result = _search(binary_data, families=families, max_trials=len(allowed), monotone={"age": 1})
    trials = _trials(result)
    assert [(c.family, c.params) for c in trials] == [(e.family, e.params) for e in allowed]


def _only(entries: list[PortfolioEntry]) -> Portfolio:
    raw = json.loads(load_portfolio().to_json())
    raw["configs"] = {"binary": [e.model_dump() for e in entries]}
    return Portfolio.model_validate(raw)


def _tuned_defaults(name: str) -> dict:
    family = get_family(name)
    space = family.search_space(100, 4, "binary")
    return {k: v for k, v in family.defaults("binary").items() if k in space}
