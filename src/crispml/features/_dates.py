"""Date features computed from epoch seconds: calendar parts, elapsed time, missingness.

:func:`crispml.data.conform` turns every datetime column into seconds since
1970-01-01 UTC (float, missing as NaN); :class:`DateFeatures` derives the features from
those numbers with plain arithmetic (floor, division, sine, cosine), which the ONNX
converter in :mod:`crispml.features._dates_onnx` writes op for op. The calendar is the
proleptic Gregorian one of ``civil_from_days`` (H. Hinnant, "chrono-compatible low-level
date algorithms"), which pandas and the standard library also follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

SECONDS_PER_DAY = 86_400.0
MAX_DATE_PAIRS = 45
"""Elapsed-time features between date columns, at most (all pairs of 10 columns)."""
CALENDAR_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute")
"""What :func:`civil_from_seconds` returns, in order."""
CYCLES = {
    "month": ("month", 12, 1),
    "day_of_week": ("day_of_week", 7, 0),
    "hour": ("minute", 1440, 0),
}
"""Cyclical encodings: unit -> (integer part it reads, period, first value of that part)."""


def cycle_table(unit: str, fn: str) -> np.ndarray:
    """Sine or cosine of every position of a cycle, read by index.

    A table rather than ``np.sin`` at transform time: the values then do not depend on
    the sine implementation (numpy's and onnxruntime's differ in the last bit, enough
    to send a row across a tree split that sits exactly on a training value).

    Parameters
    ----------
    unit : {"month", "day_of_week", "hour"}
        The cycle (the hour cycle is read per minute of the day).
    fn : {"sin", "cos"}

    Returns
    -------
    numpy.ndarray
        float64, one value per position of the cycle (position 0 is its first value).

    Examples
    --------
    >>> cycle_table("month", "cos")[[2, 11]].round(6).tolist()  # March, December
    [0.0, 1.0]
    """
    _, period, first = CYCLES[unit]
    angle = 2.0 * np.pi * (np.arange(period) + first) / period
    table: np.ndarray = np.sin(angle) if fn == "sin" else np.cos(angle)
    return table


def civil_from_seconds(seconds: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar parts of epoch seconds (UTC), computed in float64 with floor divisions.

    Parameters
    ----------
    seconds : numpy.ndarray
        Seconds since 1970-01-01 00:00 UTC; NaN stays NaN in every part.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``year``, ``month`` (1-12), ``day`` (1-31), ``day_of_week`` (Monday = 0),
        ``day_of_year`` (1-366), ``hour`` (0-23, with fractions of minutes and seconds)
        and ``minute`` (of the day, 0-1439).

    Examples
    --------
    >>> parts = civil_from_seconds(np.array([951782400.0 + 3600 * 13.5]))  # 2000-02-29
    >>> [float(parts[k][0]) for k in ("year", "month", "day", "day_of_week", "hour")]
    [2000.0, 2.0, 29.0, 1.0, 13.5]
    """
    days = np.floor(seconds / SECONDS_PER_DAY)
    hour = (seconds - days * SECONDS_PER_DAY) / 3600.0
    day_of_week = _mod(days + 3.0, 7.0)
    z = days + 719_468.0
    era = np.floor(z / 146_097.0)
    doe = z - era * 146_097.0
    yoe = np.floor(
        (doe - np.floor(doe / 1460.0) + np.floor(doe / 36_524.0) - np.floor(doe / 146_096.0))
        / 365.0
    )
    doy_march = doe - (365.0 * yoe + np.floor(yoe / 4.0) - np.floor(yoe / 100.0))
    mp = np.floor((5.0 * doy_march + 2.0) / 153.0)
    day = doy_march - np.floor((153.0 * mp + 2.0) / 5.0) + 1.0
    month = np.where(mp < 10.0, mp + 3.0, mp - 9.0)
    year = yoe + era * 400.0 + (month <= 2.0)
    leap = (_mod(year, 4.0) == 0.0) & ((_mod(year, 100.0) != 0.0) | (_mod(year, 400.0) == 0.0))
    # day of year from the March-based day: Jan and Feb come after Dec in that count
    day_of_year = np.where(
        month <= 2.0, doy_march - 305.0, doy_march + 60.0 + leap.astype(np.float64)
    )
    minute = np.floor((seconds - days * SECONDS_PER_DAY) / 60.0)
    values = (year, month, day, day_of_week, day_of_year, hour, minute)
    parts = dict(zip(CALENDAR_PARTS, values, strict=True))
    missing = np.isnan(seconds)
    return {k: np.where(missing, np.nan, v) for k, v in parts.items()}


def _mod(x: np.ndarray, m: float) -> np.ndarray:
    out: np.ndarray = x - np.floor(x / m) * m
    return out


class DateFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Calendar parts, elapsed time and missingness of date columns given as epoch seconds.

    For each input column: year, month, day of month, day of week, day of year, the
    hour when the column holds times of day, sine and cosine of month, day of week (and
    hour), the days before the reference date (the latest date seen in training, fixed
    at ``fit``) and, when training had missing dates, a missing indicator. Then the days
    elapsed between every pair of date columns (later minus earlier column, at most
    :data:`MAX_DATE_PAIRS`). Missing dates give NaN parts (trees route them; set
    ``linear=True`` for linear models). The output is rounded to float32 values, as the
    ONNX graph computes them.

    Parameters
    ----------
    cyclical : bool, default=True
        Add the sine/cosine encodings (they let a linear model see December next to
        January).
    linear : bool, default=False
        For linear models: replace NaN outputs by their training median (the missing
        indicator keeps the information), then standardise every output with the
        training mean and standard deviation.

    Attributes
    ----------
    reference_s_ : float
        The reference date, in epoch seconds (latest training date of any column).
    has_time_ : numpy.ndarray of bool
        Per column: whether some value has a time of day other than midnight.
    has_missing_ : numpy.ndarray of bool
        Per column: whether training had missing values.
    pairs_ : list of tuple of int
        Column index pairs ``(i, j)`` whose difference ``x[j] - x[i]`` is a feature.
    fill_, mean_, scale_ : numpy.ndarray
        Training medians, means and standard deviations of the outputs (0, 0 and 1
        when ``linear`` is False).
    sources_ : list of str
        Input column of every output column (pairs belong to their later column).

    Examples
    --------
    >>> X = np.array([[0.0, 86400.0 * 31], [86400.0, np.nan]])
    >>> t = DateFeatures(cyclical=False).fit(X)
    >>> list(t.get_feature_names_out(["start", "end"])[:4])
    ['start_year', 'start_month', 'start_day', 'start_day_of_week']
    >>> t.transform(X)[0, :6].tolist()
    [1970.0, 1.0, 1.0, 3.0, 1.0, 31.0]
    """

    def __init__(self, *, cyclical: bool = True, linear: bool = False) -> None:
        self.cyclical = cyclical
        self.linear = linear

    def __sklearn_tags__(self) -> Any:
        """Missing dates are accepted (NaN seconds); infinities are not; output is float32."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def fit(self, X: Any, y: Any = None) -> DateFeatures:
        """Learn the reference date, which columns have times or gaps, and the fill values."""
        X = self._check(X, reset=True)
        observed = X[~np.isnan(X)]
        self.reference_s_ = float(observed.max()) if observed.size else 0.0
        with np.errstate(invalid="ignore"):
            clock = np.mod(X, SECONDS_PER_DAY)
        self.has_time_ = np.nan_to_num(clock, nan=0.0).any(axis=0)
        self.has_missing_ = np.isnan(X).any(axis=0)
        k = X.shape[1]
        self.pairs_ = [(i, j) for i in range(k) for j in range(i + 1, k)][:MAX_DATE_PAIRS]
        width = len(self._layout())
        self.fill_, self.mean_, self.scale_ = np.zeros(width), np.zeros(width), np.ones(width)
        if self.linear:
            raw = self._features(X)
            seen = ~np.isnan(raw).all(axis=0)
            self.fill_[seen] = np.nanmedian(raw[:, seen], axis=0)
            filled = np.where(np.isnan(raw), self.fill_, raw)
            self.mean_ = filled.mean(axis=0)
            std = filled.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
        names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(k)])
        self.sources_ = [str(names[c]) for c, _ in self._layout()]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return the date features in float32, as the ONNX graph computes them."""
        check_is_fitted(self, "reference_s_")
        X = self._check(X, reset=False)
        out = self._features(X)
        if self.linear:
            out = (np.where(np.isnan(out), self.fill_, out) - self.mean_) / self.scale_
        return out.astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``<column>_<part>`` and ``<later>_minus_<earlier>_days``."""
        check_is_fitted(self, "reference_s_")
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]
            )
        cols = [str(c) for c in input_features]
        names = []
        for c, part in self._layout():
            if part.startswith("minus_"):
                i = int(part.removeprefix("minus_"))
                names.append(f"{cols[c]}_minus_{cols[i]}_days")
            else:
                names.append(f"{cols[c]}_{part}")
        return np.asarray(names, dtype=object)

    def _check(self, X: Any, *, reset: bool) -> np.ndarray:
        checked: np.ndarray = validate_data(
            self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        return checked

    def _layout(self) -> list[tuple[int, str]]:
        """(column, part) of every output, in output order."""
        layout: list[tuple[int, str]] = []
        for c in range(len(self.has_time_)):
            parts = ["year", "month", "day", "day_of_week", "day_of_year"]
            parts += ["hour"] if self.has_time_[c] else []
            if self.cyclical:
                parts += ["month_sin", "month_cos", "day_of_week_sin", "day_of_week_cos"]
                parts += ["hour_sin", "hour_cos"] if self.has_time_[c] else []
            parts += ["days_before_reference"]
            parts += ["missing"] if self.has_missing_[c] else []
            layout += [(c, p) for p in parts]
        layout += [(j, f"minus_{i}") for i, j in self.pairs_]
        return layout

    def _features(self, X: np.ndarray) -> np.ndarray:
        columns = []
        for c in range(X.shape[1]):
            parts = civil_from_seconds(X[:, c])
            for _, part in (entry for entry in self._layout() if entry[0] == c):
                if part.startswith("minus_"):
                    continue
                columns.append(self._part(X[:, c], parts, part))
        for i, j in self.pairs_:
            columns.append((X[:, j] - X[:, i]) / SECONDS_PER_DAY)
        out: np.ndarray = np.column_stack(columns) if columns else np.empty((len(X), 0))
        return out

    def _part(self, seconds: np.ndarray, parts: dict[str, np.ndarray], part: str) -> np.ndarray:
        if part == "days_before_reference":
            days: np.ndarray = (self.reference_s_ - seconds) / SECONDS_PER_DAY
            return days
        if part == "missing":
            flags: np.ndarray = np.isnan(seconds).astype(np.float64)
            return flags
        unit, _, fn = part.rpartition("_")
        if fn in ("sin", "cos"):
            source, _, first = CYCLES[unit]
            index = parts[source] - first
            known = ~np.isnan(index)
            out = np.full(len(index), np.nan)
            out[known] = cycle_table(unit, fn)[index[known].astype(np.int64)]
            return out
        return parts[part]
