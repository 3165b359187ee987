"""Identifier columns: which look like ids, and how the spec keeps one as a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import infer_schema, load_table, prepare_dataset
from crispml.exceptions import SpecError
from crispml.spec import spec_from_dict


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    gappy = np.sort(rng.choice(np.arange(1, int(n * 1.3)), size=n, replace=False))
    return pd.DataFrame(
        {
            "shuffled_seq": order + 100,  # 100..n+99 in random order
            "gappy_seq": rng.permutation(gappy),  # most of a range taken, shuffled
            "stepped": rng.permutation(10 * np.arange(n)),  # 0, 10, 20, ... shuffled
            "text_seq": [str(v) for v in order],  # the same, stored as text
            "client_id": rng.choice(10**9, size=n, replace=False),  # sparse, named like an id
            "amount": rng.choice(10**9, size=n, replace=False),  # sparse, plain name
            "score": rng.normal(size=n),  # distinct floats
            "small_seq": np.tile(np.arange(20), n // 20),  # a sequence, but repeated
            "y": rng.choice(["a", "b"], size=n),
        }
    )


def test_shuffled_sequences_and_id_names_are_ids_distinct_measurements_are_not():
    schema = infer_schema(_frame(), target="y")
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "shuffled_seq": "id",
        "gappy_seq": "id",
        "stepped": "id",
        "text_seq": "id",
        "client_id": "id",
        "amount": "numeric",
        "score": "numeric",
        "small_seq": "numeric",
        "y": "target",
    }
    assert "range" in schema["shuffled_seq"].note
    assert "named like an id" in schema["client_id"].note
    assert schema.features == ["amount", "score", "small_seq"]


def test_keep_makes_an_id_like_column_a_feature():
    schema = infer_schema(_frame(), target="y", keep=("shuffled_seq", "text_seq", "score"))
    assert schema["shuffled_seq"].role == "numeric"
    assert schema["text_seq"].role == "numeric"
    assert schema["score"].role == "numeric" and schema["score"].note == ""
    assert "data.keep_ids" in schema["shuffled_seq"].note
    assert "shuffled_seq" in schema.features and "gappy_seq" not in schema.features


def _spec(**data):
    raw = {
        "name": "ids",
        "problem": {"task": "binary", "target": "y", "positive_label": "b"},
        "data": {"source": "data.csv", **data},
    }
    return spec_from_dict(raw, source="test spec").resolved()


def test_keep_ids_through_the_spec_and_its_errors():
    dataset = prepare_dataset(load_table(_frame()), _spec(keep_ids=["client_id"]))
    assert "client_id" in dataset.features().columns
    assert "shuffled_seq" not in dataset.features().columns
    with pytest.raises(SpecError, match="keep_ids lists 'client_id'"):
        _spec(keep_ids=["client_id"], id_column="client_id")
    with pytest.raises(SpecError, match=r"data.keep_ids names 'nope'"):
        prepare_dataset(load_table(_frame()), _spec(keep_ids=["nope"]))
