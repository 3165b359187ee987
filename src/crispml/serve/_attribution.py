"""Exact adverse-action reasons at serving, from the attribution material of the bundle.

The deployment ships, besides the scoring graph, everything exact attributions need in
safe formats (no pickle): ``model/attribution_features.onnx`` (each member's
preprocessing, raw columns in, encoded matrix out), ``model/attribution.npz`` (each tree
member's trees as plain arrays, each linear member's coefficients and mean encoded
training row) and ``model/attribution.json`` (members, weights, encoded -> raw column
map, favourable class, statements). Trees are explained by ``shap``'s TreeSHAP on those
arrays (imported only when a tree member is explained), linear members by their exact
terms; the values are those of the evaluation's batch attributions.

Serving runtime only: onnxruntime, numpy, the standard library, and shap when needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ATTRIBUTION_META = "model/attribution.json"
ATTRIBUTION_ARRAYS = "model/attribution.npz"
ATTRIBUTION_FEATURES = "model/attribution_features.onnx"
ATTRIBUTION_FILES = (ATTRIBUTION_META, ATTRIBUTION_ARRAYS, ATTRIBUTION_FEATURES)
TREE_FIELDS = (
    "children_left",
    "children_right",
    "children_default",
    "features",
    "thresholds",
    "values",
    "node_sample_weight",
)
NO_ADVERSE_ACTION = "no adverse action: the decision is the favourable outcome"


def array_key(member: int, name: str, tree: int | None = None) -> str:
    """Key of one array in ``attribution.npz``."""
    return f"m{member}_{name}" if tree is None else f"m{member}_t{tree}_{name}"


def statement(
    column: str,
    value: Any,
    statements: dict[str, Any],
    adverse: str,
    reference: float | None = None,
) -> str:
    """Plain statement of a reason: the spec's (``{value}`` filled in), else a built one.

    A ``{high, low}`` statement applies by the value's side of ``reference`` (the
    training median; a value at it has no side), a level -> statement map by the level;
    a value with no statement gets the built one.
    """
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    template = statements.get(column)
    if isinstance(template, dict):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and reference is not None and value != reference:
            template = template.get("high" if value > reference else "low")
        else:
            template = template.get(str(value))
    if template:
        return str(template).replace("{value}", shown)
    return f"{column.replace('_', ' ')} of {shown} weighed toward {adverse!r}"


class Attributor:
    """Exact attributions of raw records from the bundle's attribution material.

    Parameters
    ----------
    meta : dict
        Content of ``model/attribution.json``.
    arrays : mapping of str -> numpy.ndarray
        Content of ``model/attribution.npz``.
    features : callable
        Runs the preprocessing graph: prepared inputs -> ``{output name: encoded}``.
    """

    def __init__(
        self,
        meta: dict[str, Any],
        arrays: dict[str, np.ndarray],
        features: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
    ) -> None:
        self.meta = meta
        self.columns: list[str] = list(meta["columns"])
        self.favourable: int = int(meta.get("favourable", 0))
        self.labels: list[str] = [str(c) for c in meta.get("labels", [])]
        self.statements: dict[str, Any] = dict(meta.get("statements", {}))
        self.references: dict[str, float] = dict(meta.get("references", {}))
        self.top_k: int = int(meta.get("top_k", 4))
        self._arrays = arrays
        self._features = features
        self._explainers: dict[int, Any] = {}

    @classmethod
    def from_files(cls, root: Path, make_session: Callable[[Path], Any]) -> Attributor:
        """Load the material under a bundle root (``make_session`` opens the ONNX graph)."""
        import json

        meta = json.loads((root / ATTRIBUTION_META).read_text(encoding="utf-8"))
        with np.load(root / ATTRIBUTION_ARRAYS, allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
        session = make_session(root / ATTRIBUTION_FEATURES)
        names = [o.name for o in session.get_outputs()]

        def features(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return dict(zip(names, session.run(names, inputs), strict=True))

        return cls(meta, arrays, features)

    @property
    def adverse_label(self) -> str:
        """Name of the adverse outcome."""
        return self.labels[1 - self.favourable] if len(self.labels) == 2 else "higher value"

    def contributions(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Raw-column contributions ``(n, p)`` toward the positive class, and base ``(n,)``."""
        encoded = self._features(inputs)
        n = len(next(iter(inputs.values())))
        index = {c: i for i, c in enumerate(self.columns)}
        total, base = np.zeros((n, len(self.columns))), np.zeros(n)
        for i, member in enumerate(self.meta["members"]):
            weight = float(member["weight"])
            if member["kind"] == "constant":
                base += weight * float(member["base"])
                continue
            matrix = np.asarray(encoded[member["features_output"]], dtype=np.float64)
            if member["kind"] == "linear":
                values = (matrix - self._arrays[array_key(i, "mean")]) * self._arrays[
                    array_key(i, "coef")
                ]
                member_base = float(member["base"])
            else:
                values, member_base = self._tree_shap(i, member, matrix)
            np.add.at(total.T, [index[s] for s in member["sources"]], weight * values.T)
            base += weight * member_base
        return total, base

    def warm(self) -> None:
        """Build every tree member's explainer now, not on the first request (large forests)."""
        for i, member in enumerate(self.meta["members"]):
            if member["kind"] == "tree":
                self._explainer(i, member)

    def _tree_shap(
        self, i: int, member: dict[str, Any], matrix: np.ndarray
    ) -> tuple[np.ndarray, float]:
        explainer = self._explainer(i, member)
        values = np.asarray(explainer.shap_values(matrix, check_additivity=False), np.float64)
        if values.ndim == 3:
            values = values[:, :, -1]
        expected = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
        return values, float(expected[-1])

    def _explainer(self, i: int, member: dict[str, Any]) -> Any:
        explainer = self._explainers.get(i)
        if explainer is None:
            import shap

            trees = [
                {name: self._arrays[array_key(i, name, t)] for name in TREE_FIELDS}
                for t in range(int(member["n_trees"]))
            ]
            model = {
                "trees": trees,
                "base_offset": float(member["base_offset"]),
                "input_dtype": np.dtype(member["input_dtype"]).type,
                "tree_output": member["tree_output"],
            }
            explainer = self._explainers[i] = shap.TreeExplainer(model)
        return explainer

    def reasons(
        self, toward_adverse: np.ndarray, record: dict[str, Any], top_k: int
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Top-``top_k`` columns pushing toward the adverse outcome, and the missing inputs.

        Only positive contributions are reasons; a column missing from the record (absent
        or null) is never a reason, it is listed in ``missing``.
        """
        missing = [c for c in self.columns if record.get(c) is None]
        reasons: list[dict[str, Any]] = []
        for j in np.argsort(-toward_adverse, kind="mergesort").tolist():
            if toward_adverse[j] <= 0 or len(reasons) == top_k:
                break
            column = self.columns[j]
            if column in missing:
                continue
            value = record[column]
            reasons.append(
                {
                    "column": column,
                    "value": value,
                    "contribution": float(toward_adverse[j]),
                    "statement": statement(
                        column,
                        value,
                        self.statements,
                        self.adverse_label,
                        self.references.get(column),
                    ),
                }
            )
        return reasons, missing
