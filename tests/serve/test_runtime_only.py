"""The bundle's copy of the serving runtime imports no training code."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import crispml, crispml.serve
from crispml.serve import ServingModel
model = ServingModel.from_bundle(sys.argv[1])
row = model.predict([{"income": 50.0, "debt": 0.2, "region": "east", "owner": "yes"}])[0]
heavy = sorted(m for m in ("pandas", "sklearn", "lightgbm", "skl2onnx", "crispml.data")
               if m in sys.modules)
print(crispml.__file__, row["prediction"], heavy)
"""


def test_bundle_runtime_serves_without_training_libraries(run_dir):
    runtime = run_dir / "deploy" / "runtime"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(run_dir)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(runtime), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    origin, prediction, heavy = result.stdout.split(maxsplit=2)
    assert origin.startswith(str(runtime))
    assert prediction in {"yes", "no"}
    assert heavy.strip() == "[]"
