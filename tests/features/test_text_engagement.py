"""A table whose label lives in a free-text column, through the whole engagement."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crispml.cli import app
from crispml.evaluate import EvaluationResult
from tests.conftest import binary_spec, write_project

WORDS = [
    "bank",
    "salary",
    "rent",
    "card",
    "loan",
    "savings",
    "transfer",
    "deposit",
    "branch",
    "account",
]


def _notes_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    risky = rng.random(n) < 0.4
    notes = []
    for flag in risky:
        words = list(rng.choice(WORDS, size=rng.integers(4, 9)))
        if flag:  # the phrase; the other rows carry one of its two words
            words.insert(int(rng.integers(0, len(words))), "missed payment")
        else:
            words.insert(int(rng.integers(0, len(words))), rng.choice(["missed", "payment"]))
        notes.append(" ".join(words))
    y = np.where(risky ^ (rng.random(n) < 0.05), "yes", "no")
    return pd.DataFrame({"note": notes, "x": rng.normal(size=n), "y": y})


@pytest.mark.slow
def test_text_column_reaches_the_model_and_the_served_graph(tmp_path):
    search = {"time_budget_s": 30, "families": ["linear"], "deterministic": True,
              "max_trials": 2, "ensemble": False}  # fmt: skip
    spec = write_project(tmp_path, _notes_frame(), binary_spec(search=search))
    result = CliRunner().invoke(app, ["run", str(spec)])
    assert result.exit_code == 0, result.output
    run = next(p for p in (tmp_path / "runs").iterdir() if not p.name.startswith("."))
    evaluation = EvaluationResult.read(run)
    assert evaluation.test["roc_auc"].estimate > 0.85  # the signal lives only in the text
    parity = json.loads((run / "deploy" / "parity.json").read_text())
    assert parity["passed"]
