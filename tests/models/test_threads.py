"""Threads come from the caller (``search.n_jobs``), not from constants in the families."""

from __future__ import annotations

import os

import pytest

from crispml._utils._threads import available_cores, configure_threads, resolve_n_jobs
from crispml.models import get_family
from crispml.spec import SearchSpec

THREAD_PARAM = {
    "lightgbm": "n_jobs",
    "xgboost": "n_jobs",
    "catboost": "thread_count",
    "random_forest": "n_jobs",
    "extra_trees": "n_jobs",
}


def _threads(name, estimator):
    return estimator.get_params()[THREAD_PARAM[name]]


@pytest.mark.parametrize("name", sorted(THREAD_PARAM))
def test_families_use_the_thread_count_they_are_given(name):
    family = get_family(name)
    assert _threads(name, family.build({}, task="binary", seed=0, n_jobs=3)) == 3
    assert _threads(name, family.build({}, task="regression", seed=0, n_jobs=1)) == 1
    # None means every core this process may use (not the library's own default)
    assert _threads(name, family.build({}, task="binary", seed=0)) == available_cores()


@pytest.mark.parametrize(
    "name", ["dummy", "linear", "tree", "elastic_net", "hist_gradient_boosting"]
)
def test_every_family_accepts_n_jobs(name):
    assert get_family(name).build({}, task="binary", seed=0, n_jobs=2) is not None


def test_resolve_n_jobs_refuses_non_positive_counts():
    assert resolve_n_jobs(4) == 4
    with pytest.raises(ValueError, match="n_jobs=0 must be a positive thread count"):
        resolve_n_jobs(0)


def test_configure_threads_sets_passive_waiting_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert configure_threads(2) == 2
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert configure_threads() == available_cores()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_spec_n_jobs_defaults_to_all_cores_and_must_be_positive():
    assert SearchSpec().n_jobs is None
    assert SearchSpec(n_jobs=2).n_jobs == 2
    with pytest.raises(ValueError, match="n_jobs"):
        SearchSpec(n_jobs=0)
