"""Reading and writing the spec as YAML, with one-line error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crispml._utils._io import atomic_write_text
from crispml.exceptions import SpecError
from crispml.spec._model import ProjectSpec

_MSG_NOT_FOUND = "{path}: no such spec file. Create one with: crispml init DATA --target COLUMN"
_MSG_BAD_YAML = "{path}: not valid YAML ({problem}). Fix the syntax near line {line}."
_MSG_NOT_MAPPING = "{path}: the spec must be a YAML mapping with keys name, problem, data, ..."


def load_spec(path: str | Path) -> ProjectSpec:
    """Read and validate a ``crispml.yaml`` spec.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    ProjectSpec
        The validated spec.

    Raises
    ------
    SpecError
        If the file is missing, is not YAML, or a field is invalid; the message names
        the file, the dotted field path, the value seen and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(_MSG_NOT_FOUND.format(path=path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SpecError(_MSG_BAD_YAML.format(path=path, problem=problem, line=line)) from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text. Save the spec as UTF-8.") from None
    if not isinstance(raw, dict):
        raise SpecError(_MSG_NOT_MAPPING.format(path=path))
    return spec_from_dict(raw, source=str(path))


def spec_from_dict(raw: dict[str, Any], *, source: str = "spec") -> ProjectSpec:
    """Validate a plain mapping as a :class:`ProjectSpec`.

    Parameters
    ----------
    raw : dict
        The spec as plain data (e.g. parsed YAML).
    source : str, default="spec"
        Named at the start of error messages (the file path).

    Returns
    -------
    ProjectSpec

    Raises
    ------
    SpecError
        With the dotted field path, the value seen and what is allowed.
    """
    try:
        return ProjectSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format_validation_error(exc, source)) from None


def _format_validation_error(exc: ValidationError, source: str) -> str:
    """Render the first pydantic error as 'file -> dotted.path = value: problem'."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-after"))
    problem = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        problem = "unknown field; check the spelling (crispml schema lists every field)"
    elif first["type"] == "missing":
        return (
            f"{source} -> {loc} is required but missing. Add it (`crispml schema` lists fields)."
        )
    elif first["type"] == "literal_error":
        problem = f"not allowed; {problem[0].lower()}{problem[1:]}"
    where = f" -> {loc}" if loc else ""
    value = first.get("input")
    shown = "" if isinstance(value, dict) or not loc else f" = {value!r}"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{source}{where}{shown}: {problem}{more}"


def spec_to_yaml(spec: ProjectSpec) -> str:
    """Render a spec as YAML with every default resolved."""
    data = json.loads(spec.model_dump_json())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_spec(spec: ProjectSpec, path: str | Path) -> Path:
    """Write the spec as YAML, atomically.

    Parameters
    ----------
    spec : ProjectSpec
        The spec to write.
    path : str or Path
        Destination.

    Returns
    -------
    Path
    """
    return atomic_write_text(path, spec_to_yaml(spec))


def spec_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of :class:`ProjectSpec`."""
    return ProjectSpec.model_json_schema()
