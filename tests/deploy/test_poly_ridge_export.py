"""The small-table regression baseline (ridge on pairwise products) exports with parity."""

from __future__ import annotations

from crispml.deploy import check_parity
from crispml.models import get_family


def test_poly_ridge_exports_with_parity(problems):
    problem = problems["regression"]
    family = get_family("poly_ridge")
    model = problem.pipeline(family.build({}, task="regression", seed=0), flavour="linear")
    report = check_parity(model, problem.serve(model), problem.frame, problem.schema)
    assert report["passed"] and report["max_rel_diff"] < 1e-4, report
