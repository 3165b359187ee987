"""Is a record out of the training distribution? Range, levels and a low-density check.

A record is flagged when a number lies outside the training range, a category was
never seen (both found by the contract), a category was rare in training (under
:data:`RARE_SHARE` of the rows), or the record's numeric columns sit in a low-density
region: their Mahalanobis distance to the training centre exceeds the training rows'
own :data:`QUANTILE` quantile.

Why Mahalanobis: it catches combinations never seen together (each value in range,
the pair not) that per-column ranges miss; it costs k*k operations per row and ships
k*k numbers instead of training rows (a k-NN or isolation forest would need either the
rows or a second model in the bundle). It assumes a roughly elliptical numeric cloud
and ignores categories, which the level checks cover. By construction about
``1 - QUANTILE`` of training rows are themselves flagged.

Serving runtime only: numpy and the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

QUANTILE = 0.995
"""Training quantile of the Mahalanobis distance above which a record is low-density."""
RARE_SHARE = 0.005
"""A category level seen in fewer than this share of training rows is rare."""
_MSG_DENSITY = (
    "low-density region: Mahalanobis distance {d:.2f} of ({cols}) exceeds {t:.2f}, the "
    "{q:g} quantile of the training rows"
)
_MSG_RARE = "{name}: level {value!r} was rare in training (under {share:.1%} of rows)"


@dataclass(frozen=True)
class DensityCheck:
    """The low-density and rare-level checks, from ``contract.json``'s ``distribution``.

    Attributes
    ----------
    columns : tuple of str
        Numeric columns of the Mahalanobis distance.
    center, scale : numpy.ndarray
        Per-column median and scale used to standardise them.
    precision : numpy.ndarray
        Pseudo-inverse of the standardised training covariance.
    threshold : float
        The training rows' :data:`QUANTILE` quantile of the distance.
    rare : dict of str -> frozenset of str
        Per category column, its rare levels.
    """

    columns: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    precision: np.ndarray
    threshold: float
    rare: Mapping[str, frozenset[str]]
    quantile: float = QUANTILE

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DensityCheck | None:
        """Rebuild from the JSON form; None when the contract has no profile."""
        if not data:
            return None
        return cls(
            columns=tuple(data.get("columns", ())),
            center=np.asarray(data.get("center", []), dtype=np.float64),
            scale=np.asarray(data.get("scale", []), dtype=np.float64),
            precision=np.asarray(data.get("precision", []), dtype=np.float64),
            threshold=float(data.get("threshold", np.inf)),
            rare={k: frozenset(v) for k, v in data.get("rare_levels", {}).items()},
            quantile=float(data.get("quantile", QUANTILE)),
        )

    def distances(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Mahalanobis distance of each row (missing values count as the centre)."""
        if not self.columns:
            n = len(next(iter(inputs.values()))) if inputs else 0
            return np.zeros(n)
        X = np.hstack([np.asarray(inputs[c], dtype=np.float64) for c in self.columns])
        Z = np.nan_to_num((X - self.center) / self.scale, nan=0.0)
        squared = np.asarray(np.einsum("ij,jk,ik->i", Z, self.precision, Z), dtype=np.float64)
        return np.sqrt(np.maximum(squared, 0.0))

    def reasons(self, inputs: Mapping[str, np.ndarray]) -> list[list[str]]:
        """Per row, why it is low-density or carries a rare level (empty: neither)."""
        dist = self.distances(inputs)
        cols = ", ".join(self.columns)
        out: list[list[str]] = []
        for i, d in enumerate(dist):
            row = []
            if d > self.threshold:
                row.append(_MSG_DENSITY.format(d=d, cols=cols, t=self.threshold, q=self.quantile))
            for name, levels in self.rare.items():
                if name in inputs and inputs[name][i, 0] in levels:
                    value = inputs[name][i, 0]
                    row.append(_MSG_RARE.format(name=name, value=value, share=RARE_SHARE))
            out.append(row)
        return out


def density_profile(
    numbers: Mapping[str, np.ndarray], categories: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """Build the ``distribution`` section of ``contract.json`` from training columns.

    Parameters
    ----------
    numbers : dict of str -> array
        Training values of the numeric input columns (NaN for missing).
    categories : dict of str -> array
        Training levels of the category input columns (canonical text).

    Returns
    -------
    dict
        JSON-ready: columns, center, scale, precision, threshold, quantile, rare_levels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500); y = x + rng.normal(scale=0.1, size=500)
    >>> check = DensityCheck.from_dict(density_profile({"x": x, "y": y}, {}))
    >>> odd = {"x": np.array([[1.0], [1.0]]), "y": np.array([[1.0], [-1.0]])}
    >>> [bool(r) for r in check.reasons(odd)]  # (1, -1) is in range, but never seen together
    [False, True]
    """
    names = list(numbers)
    profile: dict[str, Any] = {"columns": [], "quantile": QUANTILE, "rare_levels": {}}
    if names:
        X = np.column_stack([np.asarray(numbers[c], dtype=np.float64) for c in names])
        center = np.nanmedian(X, axis=0)
        center = np.where(np.isfinite(center), center, 0.0)
        scale = np.nanstd(X, axis=0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        Z = np.nan_to_num((X - center) / scale, nan=0.0)
        precision = np.linalg.pinv(np.cov(Z, rowvar=False).reshape(len(names), len(names)))
        d = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Z, precision, Z), 0.0))
        profile.update(
            columns=names,
            center=center.tolist(),
            scale=scale.tolist(),
            precision=precision.tolist(),
            threshold=float(np.quantile(d, QUANTILE)),
        )
    for name, values in categories.items():
        levels, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
        rare = levels[counts < RARE_SHARE * len(values)].tolist()
        if rare:
            profile["rare_levels"][name] = rare
    return profile
