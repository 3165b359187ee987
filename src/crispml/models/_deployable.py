"""The export protocol of the model types crispml deploys besides plain pipelines.

A deployable model (an ensemble, a calibrated model) describes itself to the exporter
through :meth:`DeployableModel.export_spec`: a small, typed, immutable description of
how its output is built from its parts. :mod:`crispml.deploy` reads only that
description (no attribute sniffing), so the exporter and the model cannot drift apart:
a constant the graph needs (the sigmoid's clip) is carried by the description.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CalibrationMap",
    "DeployableModel",
    "ExportSpec",
    "IsotonicMap",
    "SigmoidMap",
    "TemperatureMap",
    "WeightedAverage",
    "decision_threshold",
]


@dataclass(frozen=True)
class WeightedAverage:
    """Scores are ``sum_i weights[i] * scores(members[i])`` (weights sum to 1).

    Attributes
    ----------
    members : tuple
        The fitted parts (pipelines or other deployable models).
    weights : tuple of float
        One non-negative weight per member, summing to 1.
    """

    members: tuple[Any, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class IsotonicMap:
    """``q = numpy.interp(p, x, y)``: piecewise linear, constant beyond the end knots."""

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class SigmoidMap:
    """``q = 1 / (1 + exp(-(a * logit(p) + b)))`` with ``p`` clipped to ``[clip, 1 - clip]``."""

    a: float
    b: float
    clip: float


@dataclass(frozen=True)
class TemperatureMap:
    """``q = softmax(log(clip(p, clip, 1)) / temperature)`` over all classes of a row.

    Temperature scaling of the base's class probabilities ``p`` (any number of classes):
    a temperature above 1 softens over-confident probabilities, below 1 sharpens them;
    the most probable class never changes.
    """

    temperature: float
    clip: float


@dataclass(frozen=True)
class CalibrationMap:
    """Calibrated scores from the base's scores.

    Isotonic and sigmoid maps are binary: the scores are ``[1 - q, q]`` where
    ``q = map(p)`` and ``p`` is the base's class-1 score. A temperature map rescales
    every class (binary or multiclass).

    Attributes
    ----------
    base : object
        The fitted base model (a pipeline or another deployable model).
    map : IsotonicMap, SigmoidMap or TemperatureMap
        The map applied to the base's probabilities.
    threshold : float
        Binary decision threshold on ``q``: the label is 1 when ``q >= threshold``
        (multiclass: the most probable class, whatever the threshold).
    """

    base: Any
    map: IsotonicMap | SigmoidMap | TemperatureMap
    threshold: float


ExportSpec = WeightedAverage | CalibrationMap
"""What :meth:`DeployableModel.export_spec` returns."""


class DeployableModel(abc.ABC):
    """Mixin of the model types that are more than one pipeline and can still be exported.

    Subclasses implement :meth:`export_spec`; :func:`crispml.deploy.export_onnx` builds
    the ONNX graph from that description alone.
    """

    @abc.abstractmethod
    def export_spec(self) -> ExportSpec:
        """Describe the fitted model for export (see :data:`ExportSpec`).

        Returns
        -------
        WeightedAverage or CalibrationMap
            The description; its parts are fitted estimators.
        """


def decision_threshold(model: Any, default: float = 0.5) -> float:
    """Return the binary decision threshold a fitted model carries, else ``default``.

    Parameters
    ----------
    model : object
        A fitted pipeline or :class:`DeployableModel`.
    default : float, default=0.5
        The threshold of models that carry none (plain pipelines, ensembles).

    Returns
    -------
    float

    Examples
    --------
    >>> decision_threshold(object())
    0.5
    """
    if isinstance(model, DeployableModel):
        spec = model.export_spec()
        if isinstance(spec, CalibrationMap):
            return spec.threshold
    return default
