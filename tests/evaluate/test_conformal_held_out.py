"""Conformity scores come from held-out predictions when the model has seen the validation rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_val_predict

from crispml.evaluate._conformal import conformal_report


def test_in_sample_scores_undercover_and_held_out_scores_do_not():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = X["a"] * 2 + rng.normal(size=n)
    fit_rows, valid, test = np.arange(0, 900), np.arange(600, 900), np.arange(900, n)
    # the model has seen the validation rows (as bagged CV models do)
    model = RandomForestRegressor(n_estimators=50, random_state=0).fit(
        X.iloc[fit_rows], y.iloc[fit_rows]
    )
    held_out = cross_val_predict(
        RandomForestRegressor(n_estimators=50, random_state=0),
        X.iloc[fit_rows],
        y.iloc[fit_rows],
        cv=3,
    )[600:900]
    args = (model, X.iloc[valid], y.iloc[valid].to_numpy(), X.iloc[test], y.iloc[test].to_numpy())
    naive = conformal_report(*args, task="regression", coverage=0.9)
    honest = conformal_report(*args, task="regression", coverage=0.9, valid_output=held_out)
    assert honest["fitted_on"] == "held-out validation predictions"
    assert naive["empirical"] < 0.8  # in-sample residuals are too small
    assert abs(honest["empirical"] - 0.9) < 0.04
    assert honest["mean_width"] > naive["mean_width"]
