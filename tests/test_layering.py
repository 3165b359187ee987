"""The dependency order of DESIGN.md, checked on the import statements of every module."""

import ast
from pathlib import Path

import pytest

import crispml

SRC = Path(crispml.__file__).parent
# A phase may import the phases before it in this order (DESIGN.md's table), never after.
PHASES = (
    "spec",
    "data",
    "audit",
    "features",
    "models",
    "tracking",
    "search",
    "evaluate",
    "serve",
    "deploy",
    "monitor",
    "report",
)
ORCHESTRATION = {"_engagement", "_replay", "_init", "_pipelines", "cli", "__init__", "__main__"}


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    folder = SRC / package
    files = folder.rglob("*.py") if folder.is_dir() else [SRC / f"{package}.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "crispml" and len(parts) > 1 and parts[1] != package:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("package", [p for p in PHASES if (SRC / p).is_dir()])
def test_a_phase_imports_only_the_phases_before_it(package):
    later = set(PHASES[PHASES.index(package) + 1 :]) | ORCHESTRATION
    assert not (_imports(package) & later)


def test_serving_is_a_leaf():
    assert not (_imports("serve") & (set(PHASES) | ORCHESTRATION))


def test_the_report_does_not_run_the_engagement():
    assert not (_imports("report") & {"_engagement", "_replay", "cli"})
