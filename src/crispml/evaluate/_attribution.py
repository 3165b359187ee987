"""Exact per-row attributions of a delivered model, on its raw input columns.

A model is taken apart into weighted members (a pipeline ``features -> estimator``):
an ensemble into its members with their weights, a calibrated model into its base.
Each member's estimator is explained exactly in its own margin space:

- tree families: TreeSHAP (path-dependent, no background) through ``shap``, on the
  member's trees read as plain arrays by ``shap``'s ``TreeEnsemble`` -- the same arrays
  the deployment ships, so serving computes the same numbers without a pickle;
- linear families: the exact terms ``coef_j * (x_j - mean_j)`` around the mean encoded
  training row (the independent linear SHAP values);
- a constant (dummy) member: no contribution.

The members' values are summed with the ensemble weights, then the encoded columns
(one-hot levels, missing indicators) are summed per raw column. Margin spaces are
log-odds for boosted trees and logistic models, probability for random forests; a
calibration map is monotone, so it changes neither the sign nor the ranking of a
row's contributions and is left out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crispml.models import CalibrationMap, DeployableModel, WeightedAverage

TREE_FIELDS = (
    "children_left",
    "children_right",
    "children_default",
    "features",
    "thresholds",
    "values",
    "node_sample_weight",
)
"""Arrays of one tree in the dictionary format ``shap.TreeExplainer`` accepts.

Equal to ``crispml.serve._attribution.TREE_FIELDS``, the reader of the shipped arrays
(evaluate sits above serve and may not import it); ``tests/deploy`` checks both agree."""
EMPTY_NODE_WEIGHT = 1e-6
"""Cover given to nodes no training row reached (CatBoost's oblivious trees have them):
shap's own fix for path-dependent TreeSHAP, which divides by a node's cover share.
Additivity is unaffected; values move by a negligible amount."""
MEAN_BLOCK_ROWS = 50_000
"""Background rows transformed at once for a linear member's reference mean.

.. versionadded:: 0.4
"""


class NotExplainable(Exception):
    """A model part has no exact attribution (its reason is the message)."""


@dataclass
class Member:
    """One weighted member of the delivered model, ready to attribute.

    Attributes
    ----------
    weight : float
        Its share of the model's output (ensemble weight).
    features : object
        The fitted preprocessing (raw frame -> encoded matrix); ``None`` for a constant.
    kind : {"tree", "linear", "constant"}
        How it is attributed.
    sources : list of str
        Raw column of every encoded column.
    trees : list of dict
        Tree arrays (tree members).
    tree_info : dict
        ``base_offset``, ``input_dtype``, ``tree_output`` (tree members).
    coef, mean : numpy.ndarray
        Coefficients and mean encoded training row (linear members).
    base : float
        The member's base value (linear, constant).
    output : str
        Margin space: ``log_odds``, ``probability`` or ``raw_value``.
    """

    weight: float
    features: Any
    kind: str
    sources: list[str] = field(default_factory=list)
    trees: list[dict[str, np.ndarray]] = field(default_factory=list)
    tree_info: dict[str, Any] = field(default_factory=dict)
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base: float = 0.0
    output: str = "raw_value"


@dataclass(frozen=True)
class Attributions:
    """Per-row contributions on raw columns toward the positive class (or a higher value).

    Attributes
    ----------
    values : numpy.ndarray
        ``(n, p)``, one column per raw input column.
    base : numpy.ndarray
        ``(n,)`` weighted base value; ``values.sum(1) + base`` is the weighted margin.
    columns : list of str
        The raw columns.
    spaces : list of str
        The members' margin spaces (``log_odds``, ``probability``, ``raw_value``).
    """

    values: np.ndarray
    base: np.ndarray
    columns: list[str]
    spaces: list[str]


def weighted_members(model: Any, weight: float = 1.0) -> list[tuple[float, Any]]:
    """Flatten a fitted model into ``(weight, pipeline)`` pairs (calibration maps dropped)."""
    if isinstance(model, DeployableModel):
        spec = model.export_spec()
        if isinstance(spec, WeightedAverage):
            return [
                pair
                for member, w in zip(spec.members, spec.weights, strict=True)
                for pair in weighted_members(member, weight * w)
            ]
        if isinstance(spec, CalibrationMap):
            return weighted_members(spec.base, weight)
    return [(weight, model)]


def decompose(model: Any, background: pd.DataFrame, *, task: str) -> list[Member]:
    """Take the fitted model apart into attributable members.

    Parameters
    ----------
    model : object
        The delivered model (pipeline, ensemble or calibrated model).
    background : pandas.DataFrame
        Conformed training rows: the reference of linear terms.
    task : str
        binary or regression (multiclass has no single adverse direction).

    Returns
    -------
    list of Member

    Raises
    ------
    NotExplainable
        If a member with a positive weight has no exact attribution.
    """
    if task not in ("binary", "regression"):
        raise NotExplainable(f"per-row reasons are given for binary and regression, not {task}")
    members = []
    for weight, pipeline in weighted_members(model):
        if weight <= 0:
            continue
        members.append(_member(weight, pipeline, background))
    return members


def _member(weight: float, pipeline: Any, background: pd.DataFrame) -> Member:
    from crispml.evaluate._explain import output_sources

    if not hasattr(pipeline, "steps") or len(pipeline.steps) < 2:
        raise NotExplainable(f"{type(pipeline).__name__} is not a features -> model pipeline")
    features, estimator = pipeline[:-1], pipeline[-1]
    name = type(estimator).__name__
    if name.startswith("Dummy"):
        constant = _dummy_margin(estimator)
        return Member(weight=weight, features=None, kind="constant", base=constant)
    last = features[-1] if hasattr(features, "steps") else features
    sources = output_sources(last)
    if hasattr(estimator, "coef_"):
        coef = np.asarray(estimator.coef_, dtype=np.float64).reshape(-1)
        mean = _transformed_mean(features, background)
        intercept = float(np.asarray(getattr(estimator, "intercept_", 0.0)).reshape(-1)[0])
        output = "log_odds" if hasattr(estimator, "predict_proba") else "raw_value"
        return Member(
            weight=weight,
            features=features,
            kind="linear",
            sources=sources,
            coef=coef,
            mean=mean,
            base=intercept + float(coef @ mean),
            output=output,
        )
    trees, info = tree_arrays(estimator)
    return Member(
        weight=weight,
        features=features,
        kind="tree",
        sources=sources,
        trees=trees,
        tree_info=info,
        output=str(info["tree_output"]),
    )


def _transformed_mean(features: Any, background: pd.DataFrame) -> np.ndarray:
    """Mean of the transformed background, block by block (exact; memory of one block).

    A million training rows one-hot encoded at once would take gigabytes for one vector.
    """
    total: np.ndarray | None = None
    for start in range(0, len(background), MEAN_BLOCK_ROWS):
        block = features.transform(background.iloc[start : start + MEAN_BLOCK_ROWS])
        part = np.asarray(block, dtype=np.float64).sum(axis=0)
        total = part if total is None else total + part
    if total is None:
        raise NotExplainable("no background rows to take the linear terms' reference from")
    mean: np.ndarray = total / len(background)
    return mean


def _dummy_margin(estimator: Any) -> float:
    if hasattr(estimator, "class_prior_"):
        return float(np.asarray(estimator.class_prior_)[-1])
    return float(np.asarray(estimator.constant_).reshape(-1)[0])


def tree_arrays(estimator: Any) -> tuple[list[dict[str, np.ndarray]], dict[str, Any]]:
    """Read a fitted tree model's trees as plain arrays, through ``shap``'s ``TreeEnsemble``.

    Parameters
    ----------
    estimator : object
        A fitted tree model shap reads (scikit-learn trees and forests, gradient
        boosting, LightGBM, XGBoost, CatBoost).

    Returns
    -------
    trees : list of dict
        One dict per tree with the :data:`TREE_FIELDS` arrays (``values`` 2-D).
    info : dict
        ``base_offset`` (float), ``input_dtype`` (``float32``/``float64``), ``tree_output``.

    Raises
    ------
    NotExplainable
        If shap cannot read the model as arrays, or it has categorical splits.
    """
    from shap.explainers._tree import TreeEnsemble

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ensemble = TreeEnsemble(estimator)
    except Exception as exc:  # shap raises many types for models it does not know
        raise NotExplainable(f"{type(estimator).__name__}: {exc}") from None
    if not ensemble.trees:
        raise NotExplainable(f"{type(estimator).__name__}: shap reads no tree arrays")
    trees = []
    for tree in ensemble.trees:
        if np.any(np.asarray(tree.threshold_types) > 0):
            raise NotExplainable(f"{type(estimator).__name__} has categorical splits")
        arrays = {name: np.asarray(getattr(tree, name)) for name in TREE_FIELDS}
        values = arrays["values"]
        arrays["values"] = np.asarray(values, np.float64).reshape(len(values), -1)
        weight = np.asarray(arrays["node_sample_weight"], dtype=np.float64)
        arrays["node_sample_weight"] = np.where(weight > 0, weight, EMPTY_NODE_WEIGHT)
        trees.append(arrays)
    offset = np.asarray(ensemble.base_offset, dtype=np.float64).reshape(-1)
    info = {
        "base_offset": float(offset[-1]) if offset.size else 0.0,
        "input_dtype": np.dtype(ensemble.input_dtype).name,
        "tree_output": str(ensemble.tree_output or "raw_value"),
    }
    return trees, info


def tree_shap(
    trees: list[dict[str, np.ndarray]], info: dict[str, Any], encoded: np.ndarray
) -> tuple[np.ndarray, float]:
    """Exact TreeSHAP values ``(n, m)`` of the last output and the base value."""
    import shap

    model = {
        "trees": trees,
        "base_offset": info["base_offset"],
        "input_dtype": np.dtype(info["input_dtype"]).type,
        "tree_output": info["tree_output"],
    }
    explainer = shap.TreeExplainer(model)
    values = np.asarray(explainer.shap_values(encoded, check_additivity=False), np.float64)
    expected = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
    if values.ndim == 3:
        values = values[:, :, -1]
    return values, float(expected[-1])


def member_values(member: Member, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """One member's encoded-column contributions ``(n, m)`` and base value."""
    if member.kind == "constant":
        return np.zeros((len(X), 0)), member.base
    encoded = np.asarray(member.features.transform(X), dtype=np.float64)
    if member.kind == "linear":
        return (encoded - member.mean) * member.coef, member.base
    return tree_shap(member.trees, member.tree_info, encoded)


def attribute(members: list[Member], X: pd.DataFrame) -> Attributions:
    """Weighted raw-column attributions of ``X`` (conformed rows) for the members.

    Parameters
    ----------
    members : list of Member
        From :func:`decompose`.
    X : pandas.DataFrame
        Conformed rows.

    Returns
    -------
    Attributions
    """
    columns = [str(c) for c in X.columns]
    index = {c: i for i, c in enumerate(columns)}
    total = np.zeros((len(X), len(columns)))
    base = np.zeros(len(X))
    for member in members:
        values, member_base = member_values(member, X)
        if values.shape[1]:
            np.add.at(total.T, [index[s] for s in member.sources], member.weight * values.T)
        base += member.weight * member_base
    return Attributions(
        values=total, base=base, columns=columns, spaces=sorted({m.output for m in members})
    )
