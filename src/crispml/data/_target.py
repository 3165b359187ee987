"""Checking the target column and encoding it as numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crispml.exceptions import DataError
from crispml.spec import ProblemSpec

_MSG_NO_TARGET = "problem.target = {target!r} is not a column of the data. Columns: {known}."
_MSG_ONE_CLASS = (
    "problem.target {target!r} has a single class ({label!r}); a classifier needs at least "
    "two. Check the target column or the filter that built the file."
)
_MSG_NOT_BINARY = (
    "problem.task is 'binary' but target {target!r} has {n} classes ({shown}). "
    "Use task: multiclass, or map the target to two classes."
)
_MSG_NOT_NUMERIC = (
    "problem.task is 'regression' but target {target!r} is not numeric (e.g. {value!r}). "
    "Use task: binary or multiclass, or clean the column."
)
_MSG_BAD_FAVOURABLE = (
    "problem.favourable_label = {label!r} is not a class of the target. Classes: {shown}. "
    "Name the outcome that benefits the person scored."
)
_MSG_BAD_POSITIVE = (
    "problem.positive_label = {label!r} is not a class of {target!r}. Classes: {shown}."
)

_MSG_NOT_GRADED = (
    "problem.task is 'ranking' but target {target!r} is not a graded relevance (e.g. "
    "{value!r}); use non-negative integers such as 0 (irrelevant) to 4 (perfect)."
)
_MSG_FLAT = (
    "problem.task is 'ranking' but target {target!r} holds a single relevance level "
    "({value!r}); a ranker needs at least two. Check the column."
)

_TWO_CLASS = frozenset({"binary", "anomaly"})
_POSITIVE_GUESSES = ("1", "yes", "true", "y", "t", "positive", "pos", "bad", "default")


@dataclass(frozen=True)
class TargetEncoding:
    """How target values map to model outputs.

    Attributes
    ----------
    task : str
        binary, multiclass, regression or anomaly.
    classes : list
        Original class labels, in the order of encoded ids (binary: [negative, positive];
        anomaly: [normal, anomaly] when labelled, else empty).
    """

    task: str
    classes: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))

    @property
    def positive_label(self) -> Any:
        """The positive class (binary; anomaly with labels: the value marking an anomaly)."""
        return self.classes[1] if len(self.classes) == 2 and self.task in _TWO_CLASS else None

    def encode(self, values: pd.Series) -> np.ndarray:
        """Map target values to 0..k-1 (classification) or float (regression)."""
        if self.task == "regression":
            return np.asarray(pd.to_numeric(values), dtype=np.float64)
        if self.task == "ranking":
            return np.asarray(pd.to_numeric(values), dtype=np.int64)
        lookup = {str(c): i for i, c in enumerate(self.classes)}
        return np.asarray(values.astype(str).map(lookup), dtype=np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Map encoded ids back to the original labels."""
        if self.task == "regression":
            return np.asarray(codes, dtype=np.float64)
        if self.task == "ranking":
            return np.asarray(codes, dtype=np.int64)
        return np.asarray(self.classes, dtype=object)[np.asarray(codes, dtype=np.int64)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"task": self.task, "classes": [_plain(c) for c in self.classes]}


def encode_target(frame: pd.DataFrame, problem: ProblemSpec) -> TargetEncoding:
    """Check the target column against the task and decide the class order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table with the target column.
    problem : ProblemSpec
        Task, target and optional positive label.

    Returns
    -------
    TargetEncoding

    Raises
    ------
    DataError
        If the column is missing, has one class, does not fit the task, or the positive
        label is not one of its classes.

    Examples
    --------
    >>> from crispml.spec import ProblemSpec
    >>> df = pd.DataFrame({"y": ["no", "yes", "no"]})
    >>> encode_target(df, ProblemSpec(task="binary", target="y")).classes
    ('no', 'yes')
    """
    target = problem.target or ""
    if target not in frame.columns:
        known = ", ".join(map(str, frame.columns[:30]))
        raise DataError(_MSG_NO_TARGET.format(target=target, known=known))
    values = frame[target].dropna()
    if problem.task == "regression":
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.isna().any():
            raise DataError(
                _MSG_NOT_NUMERIC.format(target=target, value=values[numeric.isna()].iloc[0])
            )
        return TargetEncoding("regression")
    labels = sorted({_plain(v) for v in values.unique()}, key=str)
    if len(labels) < 2:
        shown = labels[0] if labels else None
        raise DataError(_MSG_ONE_CLASS.format(target=target, label=shown))
    if problem.task == "binary":
        if len(labels) != 2:
            shown = ", ".join(map(str, labels[:6]))
            raise DataError(_MSG_NOT_BINARY.format(target=target, n=len(labels), shown=shown))
        positive = _positive(labels, problem.positive_label, values, target)
        negative = next(c for c in labels if str(c) != str(positive))
        favourable = problem.favourable_label
        if favourable is not None and str(favourable).lower() not in {
            str(c).lower() for c in labels
        }:
            raise DataError(_MSG_BAD_FAVOURABLE.format(label=favourable, shown=labels))
        return TargetEncoding("binary", (negative, positive))
    return TargetEncoding("multiclass", tuple(labels))


def anomaly_encoding(frame: pd.DataFrame, problem: ProblemSpec) -> TargetEncoding:
    """Encode an anomaly task: no classes without a target, else (normal, anomaly).

    With a target, its two classes are read as a binary target whose positive class
    (``problem.positive_label``, or the guessed one) marks the known anomalies.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (with the target column when there is one).
    problem : ProblemSpec
        An anomaly problem; ``target`` may be ``None``.

    Returns
    -------
    TargetEncoding

    Raises
    ------
    DataError
        If the target is not a column or does not have exactly two classes.

    Examples
    --------
    >>> from crispml.spec import ProblemSpec
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "fraud": ["no", "yes"]})
    >>> anomaly_encoding(df, ProblemSpec(task="anomaly", target="fraud")).classes
    ('no', 'yes')
    >>> anomaly_encoding(df, ProblemSpec(task="anomaly")).classes
    ()
    """
    if problem.target is None:
        return TargetEncoding("anomaly")
    binary = encode_target(frame, problem.model_copy(update={"task": "binary"}))
    return TargetEncoding("anomaly", binary.classes)


def ranking_encoding(frame: pd.DataFrame, problem: ProblemSpec) -> TargetEncoding:
    """Check a ranking target: graded relevance, non-negative integers, two levels or more.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table with the target column.
    problem : ProblemSpec
        A ranking problem.

    Returns
    -------
    TargetEncoding
        Task ``ranking``; ``classes`` lists the relevance levels seen.

    Raises
    ------
    DataError
        If the column is missing, not graded, or holds one level.

    Examples
    --------
    >>> from crispml.spec import ProblemSpec
    >>> df = pd.DataFrame({"q": [1, 1, 2], "rel": [0, 2, 1]})
    >>> ranking_encoding(df, ProblemSpec(task="ranking", target="rel", group_column="q")).classes
    (0, 1, 2)
    """
    target = problem.target or ""
    if target not in frame.columns:
        known = ", ".join(map(str, frame.columns[:30]))
        raise DataError(_MSG_NO_TARGET.format(target=target, known=known))
    values = frame[target].dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() | (numeric < 0) | (numeric != numeric.round())
    if pd.api.types.is_bool_dtype(values) or bad.any():
        shown = values[bad].iloc[0] if bad.any() else values.iloc[0]
        raise DataError(_MSG_NOT_GRADED.format(target=target, value=_plain(shown)))
    levels = sorted(int(v) for v in numeric.unique())
    if len(levels) < 2:
        raise DataError(_MSG_FLAT.format(target=target, value=levels[0] if levels else None))
    return TargetEncoding("ranking", tuple(levels))


def _positive(labels: list[Any], wanted: Any, values: pd.Series, target: str) -> Any:
    if wanted is not None:
        for label in labels:
            if str(label) == str(wanted) or (
                isinstance(wanted, bool) and str(label).lower() == str(wanted).lower()
            ):
                return label
        raise DataError(_MSG_BAD_POSITIVE.format(label=wanted, target=target, shown=labels))
    for guess in _POSITIVE_GUESSES:
        for label in labels:
            if str(label).strip().lower() in (guess, f"{guess}.0"):
                return label
    counts = values.astype(str).value_counts()
    minority = counts.index[-1]
    return next(c for c in labels if str(c) == minority)


def _plain(value: Any) -> Any:
    """Numpy scalar -> Python scalar, so labels serialise and compare simply."""
    return value.item() if hasattr(value, "item") else value


_MAX_CLASSES = 20


def infer_task(values: pd.Series) -> str:
    """Guess the task from a target column.

    Numbers with more than 20 distinct values (or any fractional value) mean
    regression; two classes mean binary; otherwise multiclass.

    Examples
    --------
    >>> infer_task(pd.Series(["a", "b", "a"])), infer_task(pd.Series([0.5, 1.25, 3.0] * 10))
    ('binary', 'regression')
    """
    clean = values.dropna()
    n_unique = clean.nunique()
    if pd.api.types.is_numeric_dtype(clean) and not pd.api.types.is_bool_dtype(clean):
        fractional = bool((clean != clean.round()).any())
        if fractional or n_unique > _MAX_CLASSES:
            return "regression"
    return "binary" if n_unique <= 2 else "multiclass"


def guess_positive_label(values: pd.Series) -> Any:
    """Return the label ``crispml init`` proposes as positive for a binary target."""
    labels = sorted({_plain(v) for v in values.dropna().unique()}, key=str)
    return _positive(labels, None, values.dropna(), str(values.name))
