"""The base of the typed, versioned phase results written to a run folder.

A phase result is a frozen pydantic model with a ``schema_version`` and the path it is
written to (``FILE``, relative to the run folder). Later phases and the documents load
it with :meth:`PhaseResult.read`; a file written by another schema version, or with
fields this version does not know, is refused rather than half-read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from crispml.exceptions import ReportError

_MSG_MISSING = (
    "{path}: not found. The run folder lacks this phase's result; re-run the engagement."
)
_MSG_VERSION = (
    "{path}: schema_version {found} is not {expected}, the version this crispml reads. "
    "Open the run with the crispml version that wrote it (see manifest.json)."
)
_MSG_INVALID = "{path}: not a valid {kind} ({error}). Restore the file from the run's manifest."


class PhaseResult(BaseModel):
    """A phase's typed result: frozen, versioned, JSON round-trip exact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    FILE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    schema_version: int = 1

    def to_json(self) -> str:
        """Return the result as indented JSON (NaN and infinities as ``null``)."""
        data = _finite(self.model_dump(mode="json"))
        return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "<text>") -> Self:
        """Parse a result written by :meth:`to_json`.

        Raises
        ------
        ReportError
            If the text is not this result, or of another schema version.
        """
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportError(
                _MSG_INVALID.format(path=source, kind=cls.__name__, error=exc)
            ) from None
        check_version(raw, cls.SCHEMA_VERSION, source=source)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            error = f"{where}: {first['msg']}"
            raise ReportError(
                _MSG_INVALID.format(path=source, kind=cls.__name__, error=error)
            ) from None

    @classmethod
    def read(cls, run_dir: str | Path) -> Self:
        """Load the result from a run folder (``run_dir / FILE``)."""
        path = Path(run_dir) / cls.FILE
        if not path.is_file():
            raise ReportError(_MSG_MISSING.format(path=path))
        return cls.from_json(path.read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def read_optional(cls, run_dir: str | Path) -> Self | None:
        """Load the result, or return ``None`` when the run has no such file."""
        if not (Path(run_dir) / cls.FILE).is_file():
            return None
        return cls.read(run_dir)


def check_version(raw: Any, expected: int, *, source: str) -> None:
    """Refuse a result file whose ``schema_version`` is not the one this crispml reads.

    Raises
    ------
    ReportError
        Naming the file, the version found and the one expected.
    """
    found = raw.get("schema_version") if isinstance(raw, dict) else None
    if found != expected:
        raise ReportError(_MSG_VERSION.format(path=source, found=found, expected=expected))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
