"""Text columns: word and character n-grams inside the exported graph, certified by parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from crispml.data import TargetEncoding, conform, infer_schema
from crispml.deploy import build_contract, check_parity, contract_document, export_onnx
from crispml.features import build_preprocessor
from crispml.models import decision_threshold, get_family
from crispml.serve import ServingModel

WORDS = [
    "loan",
    "bank",
    "late",
    "payment",
    "income",
    "steady",
    "overdraft",
    "salary",
    "arrears",
    "rent",
    "card",
]


def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    notes = [" ".join(rng.choice(WORDS, size=rng.integers(3, 9))) for _ in range(n)]
    # Case, stray white space, punctuation and accents must read the same in both runtimes.
    notes[0] = "  Late\tPAYMENT,  arrears!  "
    notes[1] = "Élan café über naïve İstanbul"
    notes[2] = ""
    y = np.array(["late" in t.lower() or "arrears" in t.lower() for t in notes])
    flip = rng.random(n) < 0.1
    return pd.DataFrame(
        {"note": notes, "x": rng.normal(size=n), "y": np.where(y ^ flip, "bad", "good")}
    )


@pytest.mark.parametrize("name", ["linear", "lightgbm"])
def test_text_features_export_with_parity(name):
    frame = _frame()
    schema = infer_schema(frame, target="y")
    assert schema["note"].role == "text"
    X = conform(frame, schema)
    encoding = TargetEncoding("binary", ("good", "bad"))
    family = get_family(name)
    model = family.build(family.defaults("binary"), task="binary", seed=0)
    pre = build_preprocessor(schema, flavour=family.preprocessing)
    pipeline = Pipeline([("features", pre), ("model", model)]).fit(X, encoding.encode(frame["y"]))
    names = [str(n) for n in pipeline[0].get_feature_names_out()]
    assert any(n.startswith("text0_note__words__") and " " in n for n in names)  # 2-grams
    assert any(n.startswith("text0_note__chars__") for n in names)

    contract = build_contract(schema, X)
    threshold = decision_threshold(pipeline)
    graph = export_onnx(pipeline, contract, task="binary", n_classes=2, threshold=threshold)
    doc = contract_document(contract, encoding, threshold=threshold, card={})
    served = ServingModel(graph.SerializeToString(), doc)
    report = check_parity(pipeline, served, frame, schema)
    assert report["passed"], report
    assert report["n_test_rows"] == len(frame)
