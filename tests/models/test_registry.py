from __future__ import annotations

import numpy as np
import pytest

from crispml.exceptions import CrispError, UnknownModelFamilyError
from crispml.models import family_names, get_family, load_pipeline, save_pipeline


def test_builtin_families():
    assert {"dummy", "linear", "tree"} <= set(family_names(baselines=True))
    assert "lightgbm" in family_names(baselines=False)
    assert get_family("tree").glass_box and not get_family("lightgbm").glass_box


def test_unknown_family_suggests_a_close_name():
    with pytest.raises(UnknownModelFamilyError) as info:
        get_family("lightgmb")
    assert "no model family 'lightgmb'" in str(info.value)
    assert "Did you mean 'lightgbm'?" in str(info.value)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("name", ["dummy", "linear", "tree", "lightgbm"])
def test_every_family_fits_every_task(name, task):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=120)
    if task != "regression":
        y = np.digitize(y, [0.0] if task == "binary" else [-0.5, 0.5])
    family = get_family(name)
    est = family.fit(
        family.build({}, task=task, seed=0), X[:80], y[:80], X[80:], y[80:], time_left_s=30
    )
    out = est.predict(X[80:])
    assert out.shape == (40,)


def test_lightgbm_early_stopping_keeps_fewer_rounds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(scale=2.0, size=300) > 0).astype(int)
    family = get_family("lightgbm")
    est = family.fit(family.build({}, task="binary", seed=0), X[:200], y[:200], X[200:], y[200:])
    assert family.fit_info(est)["n_estimators"] < 2000


def test_lightgbm_stops_at_the_deadline():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    family = get_family("lightgbm")
    params = {"n_estimators": 5000, "learning_rate": 0.001}
    est = family.fit(family.build(params, task="binary", seed=0), X, y, X, y, time_left_s=0.0)
    assert est.booster_.num_trees() <= 2


def test_pipeline_round_trip_without_pickle(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    model = get_family("lightgbm").build({"n_estimators": 5}, task="binary", seed=0).fit(X, y)
    path = save_pipeline(model, tmp_path / "m.skops")
    np.testing.assert_array_equal(load_pipeline(path).predict_proba(X), model.predict_proba(X))
    save_pipeline(LogisticRegression().fit(X, y), tmp_path / "l.skops")
    assert load_pipeline(tmp_path / "l.skops").predict(X).shape == (50,)


def test_untrusted_types_are_refused(tmp_path):
    import skops.io as sio

    from tests.models import untrusted_helper

    path = tmp_path / "evil.skops"
    path.write_bytes(sio.dumps(untrusted_helper.Gadget()))
    with pytest.raises(CrispError, match="types crispml does not trust"):
        load_pipeline(path)
