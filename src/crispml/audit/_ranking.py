"""Audit checks of a ranking table: queries, their candidates and their relevance.

- rows per query: the distribution, and the queries with a single candidate (nothing
  to order: no figure is defined for them);
- queries whose candidates all share one relevance level (no ranking signal: they do
  not count in NDCG or MAP when none is relevant, and teach a listwise ranker nothing);
- duplicate candidates: rows of one query with the same inputs (they get the same
  score, so their order is arbitrary; with different grades the labels disagree).

The checks read the features and grades of every row (test queries included: they
count rows, they fit nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.audit._findings import Finding
from crispml.data import Dataset

MAX_EXAMPLES = 10
"""Query ids listed in a finding's evidence at most."""


def ranking_findings(dataset: Dataset, group_column: str) -> list[Finding]:
    """Check the queries of a ranking table.

    Parameters
    ----------
    dataset : Dataset
        The ranking rows (the query id is a column of ``dataset.frame``).
    group_column : str
        The query id column.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from crispml.data import load_table, prepare_dataset
    >>> from crispml.spec import ProjectSpec
    >>> frame = pd.DataFrame({"q": [1, 1, 2, 2, 3], "x": [0.1, 0.2, 0.3, 0.3, 0.5],
    ...                       "rel": [1, 0, 1, 1, 0]})
    >>> spec = ProjectSpec(name="r", data={"source": "t.csv"}, problem={
    ...     "task": "ranking", "target": "rel", "group_column": "q"}).resolved()
    >>> ds = prepare_dataset(load_table(frame), spec)
    >>> sorted(f.id for f in ranking_findings(ds, "q"))
    ['ranking:duplicate-candidates', 'ranking:queries', 'ranking:single-candidate', \
'ranking:single-level']
    """
    frame = dataset.frame
    groups = frame[group_column].astype(str)
    sizes = groups.value_counts()
    findings = [_overview(sizes, dataset.y)]
    single = sizes[sizes < 2]
    if len(single):
        findings.append(
            Finding(
                "ranking:single-candidate",
                "ranking",
                "warning",
                f"{len(single)} of {len(sizes)} queries have a single candidate",
                {"queries": len(single), "examples": _examples(single.index)},
                "Nothing is ordered in them; they are left out of NDCG and MAP. Check that "
                "problem.group_column identifies the query, not the row.",
            )
        )
    levels = pd.Series(dataset.y).groupby(groups.to_numpy()).nunique()
    flat = levels[(levels == 1) & (sizes.reindex(levels.index) > 1)]
    if len(flat):
        findings.append(
            Finding(
                "ranking:single-level",
                "ranking",
                "warning" if len(flat) > 0.2 * len(sizes) else "info",
                f"{len(flat)} of {len(sizes)} queries have one relevance level only",
                {
                    "queries": len(flat),
                    "share": float(len(flat) / len(sizes)),
                    "examples": _examples(flat.index),
                },
                "They carry no ranking signal; check that relevance was judged for every "
                "candidate shown, or drop these queries.",
            )
        )
    findings += _duplicates(dataset, groups)
    return findings


def _overview(sizes: pd.Series, y: np.ndarray) -> Finding:
    grades = pd.Series(y).value_counts().sort_index()
    return Finding(
        "ranking:queries",
        "ranking",
        "info",
        f"{len(sizes)} queries, {int(sizes.median())} candidates per query (median)",
        {
            "queries": len(sizes),
            "rows_per_query": {
                "min": int(sizes.min()),
                "median": float(sizes.median()),
                "max": int(sizes.max()),
            },
            "relevance_counts": {str(k): int(v) for k, v in grades.items()},
        },
        "",
    )


def _duplicates(dataset: Dataset, groups: pd.Series) -> list[Finding]:
    inputs = [c for c in dataset.schema.features if c not in dataset.schema.dropped]
    keyed = dataset.frame[inputs].assign(_query=groups.to_numpy(), _grade=dataset.y)
    repeated = keyed[keyed.duplicated([*inputs, "_query"], keep=False)]
    if repeated.empty:
        return []
    clash = repeated.groupby([*inputs, "_query"], dropna=False)["_grade"].nunique()
    conflicting = int((clash > 1).sum())
    return [
        Finding(
            "ranking:duplicate-candidates",
            "ranking",
            "warning",
            f"{len(repeated)} rows repeat another candidate of the same query "
            f"({conflicting} with different grades)",
            {
                "rows": len(repeated),
                "conflicting_groups": conflicting,
                "examples": _examples(repeated["_query"].unique()),
            },
            "Identical candidates get identical scores, so their order is arbitrary; "
            "deduplicate them, or add the column that tells them apart.",
        )
    ]


def _examples(values: object) -> list[str]:
    return [str(v) for v in list(values)[:MAX_EXAMPLES]]  # type: ignore[call-overload]
