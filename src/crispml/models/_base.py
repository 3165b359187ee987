"""The model-family contract and the registry every lookup goes through."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
from sklearn.base import BaseEstimator

from crispml.exceptions import UnknownModelFamilyError

SECONDS_PER_MCELL = 1.5
"""Seconds per million matrix cells of a default LightGBM fit (cost-model unit)."""

_MSG_UNKNOWN = (
    "no model family {name!r}. Known: {known}.{hint} "
    'Custom families need @crispml.models.register("name").'
)


class ModelFamily:
    """One kind of model: its defaults, its search space and how it is built and fitted.

    Subclasses set the class attributes and implement :meth:`build`. Families that can
    use a validation set (early stopping) override :meth:`fit`.

    Attributes
    ----------
    name : str
        Registry key (lower_snake), set by :func:`register`.
    tasks : frozenset of str
        Tasks the family supports.
    relative_cost : float
        Fit time relative to LightGBM on the same data; orders and shares the budget.
    preprocessing : {"tree", "linear"}
        Which preprocessing flavour feeds it (see :func:`crispml.features.build_preprocessor`).
    glass_box : bool
        Whether a person can read the fitted model (linear weights, a shallow tree).
    exports_onnx : bool
        Whether the fitted pipeline converts to ONNX.
    baseline : bool
        Whether the family is a baseline (the floor every model must beat).
    """

    name: ClassVar[str] = ""
    tasks: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression"})
    relative_cost: ClassVar[float] = 1.0
    preprocessing: ClassVar[str] = "tree"
    glass_box: ClassVar[bool] = False
    exports_onnx: ClassVar[bool] = True
    baseline: ClassVar[bool] = False
    iterative: ClassVar[bool] = False
    """Whether fitting stops at a deadline on its own (boosting callbacks, warm-start chunks)."""
    fit_overhead_s: ClassVar[float] = 0.1
    """Seconds one default fit takes on a tiny table (iterations have a floor cost)."""
    monotone_param: ClassVar[str | None] = None
    """Estimator parameter taking per-column monotone directions (None: cannot enforce)."""
    always_monotone: ClassVar[bool] = False
    """Whether the predictions ignore the inputs (so they honour any monotone constraint)."""

    @property
    def supports_monotone(self) -> bool:
        """Whether the family can honour ``features.monotone``."""
        return self.always_monotone or self.monotone_param is not None

    def constrain(self, estimator: BaseEstimator, signs: Sequence[int]) -> BaseEstimator:
        """Set ``estimator`` to honour per-column directions ``signs`` (1, -1 or 0 each).

        .. versionadded:: 0.2

        Raises
        ------
        ValueError
            If a direction is set and the family cannot enforce it.
        """
        if self.always_monotone or not any(signs):
            return estimator
        if self.monotone_param is None:
            raise ValueError(f"family {self.name!r} cannot enforce monotone constraints")
        constrained: BaseEstimator = estimator.set_params(
            **{self.monotone_param: [int(s) for s in signs]}
        )
        return constrained

    def defaults(self, task: str) -> dict[str, Any]:
        """Return the default hyperparameters (a strong configuration, not a placeholder)."""
        return {}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Return the tuned hyperparameters as Optuna distributions (empty: nothing to tune).

        Every default that is tuned lies inside its distribution, so the default
        configuration is the first point of the search.
        """
        return {}

    def estimate_fit_s(self, n_rows: int, n_cols: int) -> float:
        """Estimate the seconds one fit of the default configuration takes (the cost model).

        A floor (:attr:`fit_overhead_s`) plus a term linear in the cells (rows x columns)
        of the preprocessed matrix, scaled by :attr:`relative_cost`;
        :data:`SECONDS_PER_MCELL` was measured with LightGBM's defaults on 2 cores
        (adult: 26 k rows x 108 columns, 4 s).
        """
        cells = n_rows * max(n_cols, 1) / 1e6
        return self.fit_overhead_s + self.relative_cost * SECONDS_PER_MCELL * cells

    def size_bound(
        self, params: Mapping[str, Any], *, task: str, n_rows: int, n_outputs: int, max_mb: float
    ) -> dict[str, Any]:
        """Parameters that keep one fitted model under ``max_mb`` (predicted from its structure).

        Families whose size grows with the rows (forests of deep trees) return the
        hyperparameters that bound it (e.g. ``max_leaf_nodes``); the default is none,
        and the search still measures every fitted model against the cap.

        .. versionadded:: 0.3

        Parameters
        ----------
        params : mapping
            The configuration about to be built.
        task : str
            binary, multiclass or regression.
        n_rows : int
            Rows of one fit.
        n_outputs : int
            Classes (1 for regression).
        max_mb : float
            Megabytes this one model may take.

        Returns
        -------
        dict
            Parameters to merge over ``params`` (empty: no bound needed).
        """
        return {}

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted estimator for ``task`` with ``params``.

        Parameters
        ----------
        params : mapping
            Hyperparameters, merged over :meth:`defaults`.
        task : str
            binary, multiclass or regression.
        seed : int
            Random seed of the estimator.
        n_jobs : int or None, default=None
            Threads the estimator may use (``search.n_jobs`` in the spec); ``None``
            means every available core. Families whose estimators are single-threaded
            ignore it.

        Returns
        -------
        BaseEstimator
        """
        raise NotImplementedError

    def fit(
        self,
        estimator: BaseEstimator,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_valid: np.ndarray,
        y_valid: np.ndarray,
        *,
        time_left_s: float | None = None,
    ) -> BaseEstimator:
        """Fit ``estimator`` on preprocessed training data; the validation set is optional help.

        Parameters
        ----------
        estimator : BaseEstimator
            From :meth:`build`.
        X_train, y_train : numpy.ndarray
            Preprocessed training features and encoded target.
        X_valid, y_valid : numpy.ndarray
            Preprocessed validation features and target (for early stopping only).
        time_left_s : float, optional
            Seconds left in the budget; iterative families stop before it runs out.

        Returns
        -------
        BaseEstimator
            The fitted estimator.
        """
        fitted: BaseEstimator = estimator.fit(X_train, y_train)
        return fitted

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Facts about a fitted estimator worth logging (e.g. the boosting rounds used).

        Keys that are hyperparameters (boosting rounds kept, a learning rate chosen by the
        library) pin a refit on more rows to what early stopping found.
        """
        return {}


_REGISTRY: dict[str, type[ModelFamily]] = {}
F = TypeVar("F", bound=type[ModelFamily])


def register(name: str) -> Callable[[F], F]:
    """Class decorator: register a :class:`ModelFamily` under ``name``.

    Parameters
    ----------
    name : str
        The registry key, lower_snake (``lightgbm``, ``random_forest``).

    Returns
    -------
    callable
        The decorator, which returns the class unchanged (with ``name`` set).

    Examples
    --------
    >>> @register("always_zero_example")
    ... class Zero(ModelFamily):
    ...     def build(self, params, *, task, seed, n_jobs=None):
    ...         from sklearn.dummy import DummyRegressor
    ...         return DummyRegressor(strategy="constant", constant=0.0)
    >>> get_family("always_zero_example").name
    'always_zero_example'
    >>> _ = _REGISTRY.pop("always_zero_example")
    """

    def decorate(cls: F) -> F:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def get_family(name: str) -> ModelFamily:
    """Return an instance of the family registered as ``name``.

    Raises
    ------
    UnknownModelFamilyError
        If no family has that name; the message lists the known ones and a close match.
    """
    _load_entry_points()
    if name not in _REGISTRY:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownModelFamilyError(
            _MSG_UNKNOWN.format(name=name, known=", ".join(known), hint=hint)
        )
    return _REGISTRY[name]()


def family_names(*, baselines: bool | None = None) -> list[str]:
    """Names of the registered families, optionally only (non-)baselines."""
    _load_entry_points()
    return sorted(n for n, c in _REGISTRY.items() if baselines is None or c.baseline == baselines)


_ENTRY_POINTS_LOADED = False


def _load_entry_points() -> None:
    """Import third-party families declared under ``crispml.model_families`` once."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for point in entry_points(group="crispml.model_families"):
        point.load()


def predict_output(estimator: Any, X: Any, task: str) -> np.ndarray:
    """Return what metrics score: class probabilities (n, k), or values for regression.

    Parameters
    ----------
    estimator : estimator
        A fitted classifier or regressor (or pipeline).
    X : array-like or DataFrame
        Its input.
    task : str
        binary, multiclass or regression.

    Returns
    -------
    numpy.ndarray
    """
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=np.float64)
    return np.asarray(estimator.predict_proba(X), dtype=np.float64)
