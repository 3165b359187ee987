"""Reading a run folder defensively: every file the handoff documents are built from.

The report reads files only (never the training code), so it works on a finished run
folder alone. Files written by other phases may be absent or have fields this module
does not know; each accessor returns ``None`` / empty rather than failing, and the
documents say what was not produced.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from crispml.exceptions import ReportError

_MSG_NOT_RUN = (
    "{path} is not a run folder (no {missing}). Pass the folder a run wrote, e.g. runs/<run-id>."
)

# Section keys, and the words that send an evaluation file (or one of its top-level
# keys) to that section. The evaluation phase is written in parallel, so files are
# matched by name rather than by a fixed schema; the first matching section wins.
SECTION_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("verdict", ("verdict", "criteria", "go_no_go")),
    ("interpretability", ("interpretab", "glass", "price")),
    ("calibration", ("calibrat", "reliability", "ece")),
    ("threshold", ("threshold", "confusion", "decision", "cost")),
    ("curves", ("roc", "_pr", "precision_recall", "curve", "residual")),
    ("fairness", ("fair", "group", "parity", "odds", "mitigat")),
    ("slices", ("slice", "segment", "error", "worst")),
    ("importance", ("importance", "explain", "shap", "reason")),
    ("conformal", ("conformal", "coverage", "prediction_set", "interval")),
    ("metrics", ("metric", "bootstrap", "ci", "score", "summary")),
)
IMAGE_SUFFIXES = {".svg": "image/svg+xml", ".png": "image/png"}


@dataclass
class RunRecord:
    """Everything the handoff documents are built from, read from one run folder.

    Attributes
    ----------
    path : Path
        The run folder (staged or finished).
    manifest : dict
        ``manifest.json`` (or the manifest about to be written, during a run).
    spec : dict
        ``spec.yaml`` as a plain mapping.
    metrics : dict
        ``metrics.json``.
    leaderboard : pandas.DataFrame
        ``leaderboard.csv`` (empty when missing).
    schema, split : dict
        ``data/schema.json`` and ``data/split.json`` (split without row positions).
    audit, parity, latency, budget : dict or None
        ``audit/audit.json``, ``deploy/parity.json``, ``deploy/latency.json`` and
        ``search/budget.json`` when they exist.
    evaluation : dict
        Every ``evaluation/*.json``, by file stem.
    images : dict
        Plots other phases wrote (``evaluation/``, ``audit/``, ``deploy/``), by path.
    """

    path: Path
    manifest: dict[str, Any]
    spec: dict[str, Any]
    metrics: dict[str, Any]
    leaderboard: pd.DataFrame
    schema: dict[str, Any]
    split: dict[str, Any]
    audit: dict[str, Any] | None = None
    parity: dict[str, Any] | None = None
    latency: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Path] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run id (from the manifest, else the folder name)."""
        return str(self.manifest.get("run_id") or self.path.name.removeprefix(".staging-"))

    @property
    def task(self) -> str:
        """binary, multiclass or regression."""
        return str(self.metrics.get("task") or dig(self.spec, "problem", "task") or "unknown")

    @property
    def primary_metric(self) -> str:
        """The metric the model was selected on."""
        return str(self.metrics.get("primary_metric") or dig(self.spec, "problem", "metric"))

    @property
    def test_metrics(self) -> dict[str, float]:
        """Point estimates of the selected model's test metrics."""
        test = self.metrics.get("test") or {}
        return {str(k): float(v) for k, v in test.items() if isinstance(v, int | float)}

    @property
    def selected_model(self) -> str:
        """Name of the model chosen on validation."""
        return str(self.metrics.get("selected_model") or "unknown")

    @property
    def protected(self) -> list[str]:
        """Protected attributes named in the spec."""
        return [str(c) for c in (dig(self.spec, "fairness", "protected") or [])]

    def section(self, key: str) -> dict[str, Any]:
        """Return the evaluation results routed to one section (see :data:`SECTION_KEYWORDS`)."""
        return route_evaluation(self.evaluation).get(key, {})

    def section_images(self, key: str) -> list[str]:
        """Relative paths of the plots whose file name routes them to ``key``."""
        return [rel for rel in sorted(self.images) if classify(Path(rel).stem) == key]


def read_run(path: str | Path, *, manifest: dict[str, Any] | None = None) -> RunRecord:
    """Read a run folder into a :class:`RunRecord`.

    Parameters
    ----------
    path : str or Path
        A finished run folder, or the staged folder during a run.
    manifest : dict, optional
        The manifest to use instead of ``manifest.json`` (during a run it is not yet
        written).

    Returns
    -------
    RunRecord

    Raises
    ------
    ReportError
        If the folder lacks the files every run writes (spec.yaml, metrics.json).
    """
    root = Path(path)
    for name in ("spec.yaml", "metrics.json"):
        if not (root / name).is_file():
            raise ReportError(_MSG_NOT_RUN.format(path=root, missing=name))
    if manifest is None:
        manifest = _json(root / "manifest.json") or {}
    split = _json(root / "data/split.json") or {}
    return RunRecord(
        path=root,
        manifest=manifest,
        spec=_yaml(root / "spec.yaml"),
        metrics=_json(root / "metrics.json") or {},
        leaderboard=_csv(root / "leaderboard.csv"),
        schema=_json(root / "data/schema.json") or {},
        split={k: v for k, v in split.items() if k not in ("train", "valid", "test", "test_ids")},
        audit=_json(root / "audit/audit.json"),
        parity=_json(root / "deploy/parity.json"),
        latency=_json(root / "deploy/latency.json"),
        budget=_json(root / "search/budget.json"),
        evaluation={p.stem: _json(p) for p in sorted((root / "evaluation").glob("*.json"))},
        images={
            p.relative_to(root).as_posix(): p
            for sub in ("evaluation", "audit", "deploy")
            for p in sorted((root / sub).rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        },
    )


def classify(name: str) -> str | None:
    """Return the section a file stem or JSON key belongs to, or ``None``."""
    lowered = f"_{name.lower()}"
    for key, words in SECTION_KEYWORDS:
        if any(w in lowered for w in words):
            return key
    return None


def route_evaluation(evaluation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Route evaluation files to report sections: by file name, else by top-level key."""
    out: dict[str, dict[str, Any]] = {}
    for stem, content in evaluation.items():
        key = classify(stem)
        if key is not None or not isinstance(content, dict):
            out.setdefault(key or "other", {})[stem] = content
            continue
        for sub, value in content.items():
            out.setdefault(classify(sub) or "other", {})[f"{stem}.{sub}"] = value
    return out


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or ``None`` when any level is missing."""
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def first(obj: Any, *keys: str) -> Any:
    """Return the value of the first of ``keys`` in the mapping ``obj``, else ``None``."""
    if not isinstance(obj, dict):
        return None
    for key in keys:
        if obj.get(key) is not None:
            return obj[key]
    return None


def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return pd.DataFrame()
