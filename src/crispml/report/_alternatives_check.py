"""``crispml verify`` for the alternatives figures: measure them again from the saved table.

The figures of :class:`~crispml.evaluate.AlternativesResult` come from the compared
models' probabilities saved beside it (``evaluation/alternatives_outputs.parquet``); a
claim citing one of them is checked against the same figure recomputed from that table
by :func:`crispml.evaluate._alternatives.recompute`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from crispml.evaluate import AlternativesResult
from crispml.evaluate._alternatives import recompute

CHECK_KIND = "alternatives"


def alternatives_check(field: str) -> dict[str, str]:
    """Return the claim check of one field of the alternatives result."""
    return {"kind": CHECK_KIND, "field": field}


class AlternativesCheck:
    """Recomputes alternatives figures of one run folder, reading the table once.

    Parameters
    ----------
    root : Path
        The run folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._values: dict[str, Any] | None = None

    def value(self, field: str) -> float | int | None:
        """Recompute the figure at dotted ``field`` (e.g. ``points.0.primary.low``)."""
        if self._values is None:
            saved = AlternativesResult.read(self.root)
            table = pd.read_parquet(self.root / saved.outputs)
            self._values = recompute(saved, table).model_dump(mode="json")
        value: Any = self._values
        for key in field.split("."):
            value = value[int(key)] if isinstance(value, list) else value[key]
        return None if value is None else value
