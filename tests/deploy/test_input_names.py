"""Raw column names that are not identifiers survive the export (skl2onnx renames them)."""

from __future__ import annotations

from crispml.deploy import check_parity
from crispml.models import get_family
from tests.deploy.conftest import Problem


def test_columns_with_spaces_and_symbols_keep_their_names():
    problem = Problem("binary")
    renamed = {"x1": "mean radius", "x2": "rate (%)", "city": "home city"}
    problem.frame = problem.frame.rename(columns=renamed)
    fresh = Problem.__new__(Problem)
    fresh.__dict__.update(problem.__dict__)
    from crispml.data import conform, infer_schema
    from crispml.deploy import build_contract

    fresh.schema = infer_schema(fresh.frame, target="y")
    fresh.X = conform(fresh.frame, fresh.schema)
    fresh.contract = build_contract(fresh.schema, fresh.X)
    for name in ("linear", "lightgbm"):
        family = get_family(name)
        pipeline = fresh.pipeline(
            family.build({"n_estimators": 20}, task="binary", seed=0)
            if name == "lightgbm"
            else family.build({}, task="binary", seed=0),
            flavour=family.preprocessing,
        )
        served = fresh.serve(pipeline)
        assert {i.name for i in served.session.get_inputs()} == {
            "mean radius",
            "rate (%)",
            "home city",
            "member",
        }
        report = check_parity(pipeline, served, fresh.frame.drop(columns="y"), fresh.schema)
        assert report["passed"], report
