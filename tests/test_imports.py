"""Importing crispml has no side effects and loads no heavy library (fresh interpreters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TRAINING = (
    "sklearn",
    "scipy",
    "pandas",
    "lightgbm",
    "xgboost",
    "catboost",
    "optuna",
    "mlflow",
    "shap",
    "skl2onnx",
    "onnxmltools",
    "fairlearn",
    "cleanlab",
    "mapie",
    "matplotlib",
)
"""Libraries the serving runtime must not load (none is in the ``[serve]`` extra)."""


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter without OMP_WAIT_POLICY; return its JSON output."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


_REPORT = (
    "import json, os, sys; print(json.dumps({'omp': os.environ.get('OMP_WAIT_POLICY'), "
    "'loaded': sorted(m for m in sys.modules if m.split('.')[0] in %r or m == '%s')}))"
)


def test_import_crispml_sets_no_environment_and_loads_no_heavy_library():
    out = _fresh("import crispml; " + _REPORT % (TRAINING, "matplotlib.pyplot"))
    assert out["omp"] is None
    assert out["loaded"] == []


def test_import_crispml_serve_loads_no_training_library():
    out = _fresh("import crispml.serve; " + _REPORT % (TRAINING, "crispml.models"))
    assert out["loaded"] == []


def test_the_engagement_api_sets_no_environment_and_loads_no_model_library_on_import():
    code = "from crispml import Project, AutoClassifier; import crispml.models, crispml.search; "
    out = _fresh(code + _REPORT % (("lightgbm", "xgboost", "catboost", "optuna", "mlflow"), "-"))
    assert out["omp"] is None
    assert out["loaded"] == []


def test_the_cli_entry_sets_passive_waiting_before_the_command_runs():
    code = (
        "import sys; sys.argv = ['crispml', '--help']\n"
        "from crispml.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n" + _REPORT % ((), "-")
    )
    assert _fresh(code)["omp"] == "PASSIVE"
