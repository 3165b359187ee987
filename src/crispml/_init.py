"""Drafting a spec from a data file (``crispml init``)."""

from __future__ import annotations

import re
from pathlib import Path

from crispml import data as cdata
from crispml.spec import (
    ProblemSpec,
    propose_metric,
    render_anomaly_template,
    render_spec_template,
    spec_from_dict,
)

_PROTECTED_NAMES = re.compile(
    r"^(sex|gender|race|ethnicity|ethnic|black|religion|age|marital_status|nationality|"
    r"national_origin|disability|personal_status_sex)$",
    re.IGNORECASE,
)


def draft_spec(
    source: str,
    *,
    target: str | None,
    name: str | None = None,
    spec_dir: Path = Path("."),
    spec_name: str = "crispml.yaml",
    task: str | None = None,
    max_trials: int | None = None,
) -> tuple[str, str]:
    """Load ``source``, infer the task from ``target`` and return (spec text, task).

    Without a target (or with ``task="anomaly"``) the draft is an anomaly-detection
    spec; a target then marks the known anomalies. The text is validated before it is
    returned, so ``crispml init`` never writes a spec that ``crispml run`` would refuse.
    """
    table = cdata.load_table(source, base_dir=Path("."))
    if target is None or task == "anomaly":
        return _draft_anomaly(table, source, target, name, spec_dir, spec_name), "anomaly"
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
