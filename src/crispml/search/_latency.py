"""How long one row takes through a fitted model's trees once served, predicted from its structure.

Why a prediction from the structure, not a measurement: timing each candidate's
scikit-learn ``predict`` measures pandas and Python overhead, not the served ONNX graph
(on the HMDA pipeline the two differ by 290x, and the ratio changes with the model), and
exporting every candidate to ONNX to time it would cost more than fitting it.

What is predicted: the served graph evaluates, for one row, every tree of the model from
its root down to a leaf, so its cost grows with the sum over trees of their depth (the
nodes one row visits, at most). onnxruntime's tree-ensemble operator took about
:data:`NS_PER_NODE` per visited node for one row on the reference machine (2 cores;
extra-trees of 1 to 400 trees, depth 4 to 60: 16-28 ns per node, 300 single-row calls
each). The call overhead, the preprocessing steps and HTTP do not depend on the model
and are left out, so the figure errs low rather than high: a candidate whose trees alone
are predicted to exceed ``deployment.latency_sla_ms`` cannot be expected to meet it once
served, and no candidate is excluded for costs that every candidate shares. The
latency measured after the export remains the check of the delivered model.
"""

from __future__ import annotations

from typing import Any

NS_PER_NODE = 20.0
"""Nanoseconds per tree node visited by one row in onnxruntime (measured, see above)."""


def predicted_latency_ms(model: Any) -> float:
    """Predicted single-row latency of ``model``'s trees once served, in milliseconds.

    Parameters
    ----------
    model : estimator
        A fitted pipeline, a :class:`~crispml.models.WeightedEnsemble` of them (members
        add up), or a calibrated model over one. Models without trees predict 0.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.arange(64.0).reshape(-1, 1)
    >>> tree = DecisionTreeRegressor(max_depth=3).fit(X, X[:, 0])
    >>> round(predicted_latency_ms(tree) * 1e6)  # 3 nodes x 20 ns, in ns
    60
    """
    return node_visits(model) * NS_PER_NODE / 1e6


def node_visits(model: Any) -> int:
    """Tree nodes one row visits at most: the sum over the model's trees of their depth."""
    if hasattr(model, "members_"):  # WeightedEnsemble: every member runs
        return sum(node_visits(m) for m in model.members_)
    if hasattr(model, "base_"):  # CalibratedModel: the map costs nothing measurable
        return node_visits(model.base_)
    if hasattr(model, "steps"):  # Pipeline: the model is the last step
        return node_visits(model.steps[-1][1])
    if hasattr(model, "tree_"):  # a scikit-learn tree
        return int(model.tree_.max_depth)
    if hasattr(model, "_predictors"):  # HistGradientBoosting: one tree per class and round
        return sum(int(p.nodes["depth"].max()) for row in model._predictors for p in row)
    if hasattr(model, "estimators_"):  # forests, extra trees, gradient boosting
        return sum(node_visits(e) for e in _flat(model.estimators_))
    return _booster_visits(model)


def _flat(estimators: Any) -> list[Any]:
    out: list[Any] = []
    for item in estimators:
        out += _flat(item) if isinstance(item, list | tuple) or hasattr(item, "ndim") else [item]
    return out


def _booster_visits(model: Any) -> int:
    """LightGBM, XGBoost and CatBoost models; 0 for models without trees."""
    if hasattr(model, "booster_") and hasattr(model.booster_, "dump_model"):  # LightGBM
        trees = model.booster_.dump_model()["tree_info"]
        return sum(_lgb_depth(t["tree_structure"]) for t in trees)
    if hasattr(model, "get_booster"):  # XGBoost: a dumped node is indented by its depth
        dump = model.get_booster().get_dump()
        return sum(
            max(len(line) - len(line.lstrip("\t")) for line in tree.splitlines()) for tree in dump
        )
    if hasattr(model, "tree_count_"):  # CatBoost: oblivious trees of one depth
        return int(model.tree_count_) * int(model.get_all_params()["depth"])
    return 0


def _lgb_depth(node: dict[str, Any]) -> int:
    if "left_child" not in node:
        return 0
    return 1 + max(_lgb_depth(node["left_child"]), _lgb_depth(node["right_child"]))
