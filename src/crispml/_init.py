"""Drafting a spec from a data file (``crispml init``)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from crispml import data as cdata
from crispml.exceptions import SpecError
from crispml.spec import (
    ProblemSpec,
    propose_metric,
    render_anomaly_template,
    render_ranking_template,
    render_spec_template,
    spec_from_dict,
)

_PROTECTED_NAMES = re.compile(
    r"^(sex|gender|race|ethnicity|ethnic|black|religion|age|marital_status|nationality|"
    r"national_origin|disability|personal_status_sex)$",
    re.IGNORECASE,
)


_QUERY_NAMES = re.compile(
    r"^(q|qid|query|query_?id|search_?id|srch_?id|session|session_?id|request_?id|"
    r"group|group_?id|list_?id)$",
    re.IGNORECASE,
)
_MAX_GRADES = 10
_MSG_HINT = "looks like a ranking table: rerun with --task ranking --group {column}"
_MSG_NEEDS_GROUP = (
    "--task ranking needs --group: name the column that identifies the query "
    "(the rows ranked together), e.g. --group query_id"
)
_MSG_NO_GROUP = "--group {column!r} is not a column of the data. Columns: {known}."


def draft_spec(
    source: str,
    *,
    target: str | None,
    name: str | None = None,
    spec_dir: Path = Path("."),
    spec_name: str = "crispml.yaml",
    task: str | None = None,
    max_trials: int | None = None,
    group: str | None = None,
) -> tuple[str, str]:
    """Load ``source``, infer the task from ``target`` and return (spec text, task).

    Without a target (or with ``task="anomaly"``) the draft is an anomaly-detection
    spec; a target then marks the known anomalies. With ``group`` (the query column)
    it is a ranking spec. The text is validated before it is returned, so
    ``crispml init`` never writes a spec that ``crispml run`` would refuse.

    .. versionchanged:: 0.4
       ``group`` drafts a ranking spec.
    """
    text, task, _ = draft_spec_with_hint(
        source,
        target=target,
        name=name,
        spec_dir=spec_dir,
        spec_name=spec_name,
        task=task,
        max_trials=max_trials,
        group=group,
    )
    return text, task


def draft_spec_with_hint(
    source: str,
    *,
    target: str | None,
    name: str | None = None,
    spec_dir: Path = Path("."),
    spec_name: str = "crispml.yaml",
    task: str | None = None,
    max_trials: int | None = None,
    group: str | None = None,
) -> tuple[str, str, str | None]:
    """:func:`draft_spec`, also returning a one-line hint when the draft may be the wrong task.

    A table with a column that looks like a query id and a graded small-integer target
    is drafted as the task its target implies (init does not guess a ranking task); the
    hint says how to ask for ranking instead.
    """
    table = cdata.load_table(source, base_dir=Path("."))
    if task == "ranking" or group is not None:
        text = _draft_ranking(table, source, target, group, name, spec_dir, spec_name)
        return text, "ranking", None
    if target is None or task == "anomaly":
        text = _draft_anomaly(table, source, target, name, spec_dir, spec_name)
        return text, "anomaly", None
    text, task = _draft_supervised(table, source, target, name, spec_dir, spec_name, max_trials)
    column = query_column(table.frame, target)
    return text, task, None if column is None else _MSG_HINT.format(column=column)


def query_column(frame: pd.DataFrame, target: str) -> str | None:
    """Return the column that looks like a query id, if ``target`` looks like relevance.

    A query id is named like one (``query_id``, ``qid``, ``session``...) and repeats:
    at least two queries, two rows per query or more on average. Graded relevance is
    non-negative integers with two to ten levels.

    Examples
    --------
    >>> frame = pd.DataFrame({"qid": [1, 1, 2, 2], "x": [1, 2, 3, 4], "rel": [0, 2, 1, 0]})
    >>> query_column(frame, "rel")
    'qid'
    """
    if target not in frame.columns or not _graded(frame[target]):
        return None
    for column in frame.columns:
        if column == target or not _QUERY_NAMES.match(str(column)):
            continue
        n_groups = frame[column].nunique()
        if 2 <= n_groups <= len(frame) / 2:
            return str(column)
    return None


def _graded(values: pd.Series) -> bool:
    clean = pd.to_numeric(values.dropna(), errors="coerce")
    if pd.api.types.is_bool_dtype(values) or clean.isna().any() or clean.empty:
        return False
    whole = bool((clean >= 0).all() and (clean == clean.round()).all())
    return whole and 2 <= clean.nunique() <= _MAX_GRADES


def _draft_ranking(
    table: cdata.LoadedTable,
    source: str,
    target: str | None,
    group: str | None,
    name: str | None,
    spec_dir: Path,
    spec_name: str,
) -> str:
    if group is None:
        raise SpecError(_MSG_NEEDS_GROUP)
    if group not in table.frame.columns:
        known = ", ".join(map(str, table.frame.columns[:30]))
        raise SpecError(_MSG_NO_GROUP.format(column=group, known=known))
    if target is None:
        raise SpecError(
            "--group drafts a ranking spec, which needs --target: the graded relevance"
        )
    problem = ProblemSpec(task="ranking", target=target, group_column=group)
    cdata.ranking_encoding(table.frame, problem)  # raises on a target that is not graded
    text = render_ranking_template(
        name=name or _project_name(source),
        source=_relative_source(source, spec_dir),
        target=target,
        group=group,
        spec_name=spec_name,
    )
    import yaml

    spec_from_dict(yaml.safe_load(text), source="drafted spec")
    return text


def _draft_supervised(
    table: cdata.LoadedTable,
    source: str,
    target: str,
    name: str | None,
    spec_dir: Path,
    spec_name: str,
    max_trials: int | None,
) -> tuple[str, str]:
    task = cdata.infer_task(table.frame[target]) if target in table.frame.columns else "binary"
    cdata.encode_target(
        table.frame, ProblemSpec(task=task, target=target)
    )  # raises on a bad target
    positive = cdata.guess_positive_label(table.frame[target]) if task == "binary" else None
    negative = None
    if task == "binary":
        labels = table.frame[target].dropna().unique().tolist()
        negative = next((v for v in labels if str(v) != str(positive)), None)
    protected = [
        str(c) for c in table.frame.columns if _PROTECTED_NAMES.match(str(c)) and c != target
    ]
    rel_source = _relative_source(source, spec_dir)
    counts = table.frame[target].value_counts().to_dict() if target in table.frame else {}
    metric, reason = propose_metric(task, counts)
    text = render_spec_template(
        name=name or _project_name(source),
        source=rel_source,
        target=target,
        task=task,
        metric=metric,
        metric_reason=reason,
        positive_label=positive,
        negative_label=negative,
        protected=protected,
        spec_name=spec_name,
        max_trials=max_trials,
    )
    import yaml

    spec_from_dict(yaml.safe_load(text), source="drafted spec")
    return text, task


def _draft_anomaly(
    table: cdata.LoadedTable,
    source: str,
    target: str | None,
    name: str | None,
    spec_dir: Path,
    spec_name: str,
) -> str:
    problem = ProblemSpec(task="anomaly", target=target)
    encoding = cdata.anomaly_encoding(table.frame, problem)  # raises on a bad target
    text = render_anomaly_template(
        name=name or _project_name(source),
        source=_relative_source(source, spec_dir),
        target=target,
        positive_label=encoding.positive_label if target is not None else None,
        spec_name=spec_name,
    )
    import yaml

    spec_from_dict(yaml.safe_load(text), source="drafted spec")
    return text


def _project_name(source: str) -> str:
    stem = (
        source.split(":", 1)[1]
        if ":" in source and not Path(source).exists()
        else Path(source).name
    )
    return (
        re.sub(r"(\.csv|\.tsv|\.parquet|\.gz|\.pq)+$", "", stem, flags=re.IGNORECASE) or "project"
    )


def _relative_source(source: str, spec_dir: Path) -> str:
    if ":" in source and not Path(source).exists():
        return source
    path = Path(source).resolve()
    try:
        return str(path.relative_to(spec_dir.resolve()))
    except ValueError:
        return str(path)
