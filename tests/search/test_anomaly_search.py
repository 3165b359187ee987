"""The detector search: chosen on validation with labels, first family without."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import conform, infer_schema
from crispml.exceptions import UnknownModelFamilyError
from crispml.search import search_detectors

DETECTORS = ["isolation_forest", "local_outlier_factor", "one_class_svm"]


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "z": 0.8 * x + rng.normal(0, 0.3, n)})
    y = np.zeros(n, dtype=int)
    y[rng.choice(n, 16, replace=False)] = 1
    frame.loc[y == 1, "z"] -= 2.5 * np.sign(frame.loc[y == 1, "x"] + 1e-9)  # break the slope
    schema = infer_schema(frame.assign(y=y), target="y")
    return conform(frame, schema), y, schema


def test_labelled_search_picks_the_best_validation_score_deterministically():
    X, y, schema = _data()
    kwargs = {"schema": schema, "detectors": DETECTORS, "contamination": 0.04, "max_trials": 6}
    first = search_detectors(X[:250], X[250:], y[250:], deterministic=True, **kwargs)
    again = search_detectors(X[:250], X[250:], y[250:], deterministic=True, **kwargs)
    assert len(first.candidates) == 6 and first.labelled
    assert first.best.valid_score == max(c.valid_score for c in first.candidates)
    assert [c.name for c in first.candidates] == [c.name for c in again.candidates]
    assert [c.valid_score for c in first.candidates] == [c.valid_score for c in again.candidates]
    assert {c.family for c in first.candidates[:3]} == set(DETECTORS)  # defaults first


def test_unlabelled_search_delivers_the_first_family_and_records_agreement():
    X, _, schema = _data()
    found = search_detectors(
        X[:250], X[250:], None, schema=schema, detectors=DETECTORS[::-1], contamination=0.04
    )
    assert found.best.family == "one_class_svm" and found.metric is None
    assert len(found.candidates) == 3  # nothing to tune on
    agreement = [c.info["rank_agreement_with_delivered"] for c in found.candidates]
    assert agreement[0] == pytest.approx(1.0) and all(-1 <= a <= 1 for a in agreement)


def test_unknown_detector_names_the_known_ones():
    X, y, schema = _data()
    with pytest.raises(UnknownModelFamilyError, match=r"no anomaly detector 'ecod'\. Known"):
        search_detectors(X, X, y, schema=schema, detectors=["ecod"], contamination=0.05)
