"""A configuration is fitted once: the default of a real family, then the same point sampled."""

from __future__ import annotations

from crispml.models import get_family
from crispml.models._extra_trees import ExtraTreesFamily
from crispml.search import search_models


def test_extra_trees_default_and_the_same_config_sampled_are_fitted_once(binary_data, monkeypatch):
    """The issue's ``extra_trees`` / ``extra_trees-6``: equal configurations, one fit."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    family = get_family("extra_trees")
    default = family.defaults("binary")

    def small_space(self, n_rows, n_cols, task):
        # Two points only, the default among them: TPE soon proposes the default again.
        return {
            "max_features": CategoricalDistribution([default["max_features"], 1.0]),
            "min_samples_leaf": IntDistribution(
                default["min_samples_leaf"], default["min_samples_leaf"]
            ),
            "class_weight": CategoricalDistribution([default["class_weight"]]),
        }

    built = []
    original_build = ExtraTreesFamily.build

    def counting_build(self, params, *, task, seed, n_jobs=None):
        built.append({**self.defaults(task), **params})
        return original_build(self, params, task=task, seed=seed, n_jobs=n_jobs)

    monkeypatch.setattr(ExtraTreesFamily, "search_space", small_space)
    monkeypatch.setattr(ExtraTreesFamily, "build", counting_build)
    schema, Xt, yt, Xv, yv = binary_data
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="binary", metric="roc_auc", seed=0,
        families=("extra_trees",), deterministic=True, max_trials=12, ensemble=False,
        baselines=False, validation="holdout",
    )  # fmt: skip
    trials = [c for c in result.candidates if c.family == "extra_trees"]
    configs = [tuple(sorted({**default, **c.params}.items(), key=str)) for c in trials]
    assert len(trials) == 2  # the two distinct points; every other proposal was a repeat
    assert len(set(configs)) == len(configs)
    # one fit per distinct configuration, plus the refit of the selected one on train + valid
    assert len(built) == 3
