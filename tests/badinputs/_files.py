"""Bad input files and specs made by the tests: each case writes a project and its outcome.

A case is a function ``(folder) -> spec path`` plus the expected outcome:
``("error", text)``: exit code 2 and one line on stderr containing ``text``;
``("ok", text)``: exit code 0, a sealed run folder, and ``text`` in its audit or output
(the documented warning).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

FAST = {
    "search": {
        "time_budget_s": 5,
        "families": ["elastic_net"],
        "ensemble": False,
        "deterministic": True,
        "max_trials": 1,
    },
    "evaluation": {"bootstrap": 0},
    "tracking": {"enabled": False},
    "deployment": {"latency_sla_ms": {"p99": 1000}},
}


def frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A small clean binary table: two numbers, one category, target ``y``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    city = rng.choice(["north", "south", "east"], size=n)
    y = np.where(x + rng.normal(scale=0.7, size=n) + (city == "north") > 0.3, "yes", "no")
    return pd.DataFrame({"x": x.round(4), "z": rng.uniform(size=n).round(4), "city": city, "y": y})


def spec(folder: Path, source: str = "data.csv", **overrides: Any) -> Path:
    """Write ``crispml.yaml`` (fast search) into ``folder``; return its path."""
    body: dict[str, Any] = {
        "name": "bad-input",
        "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
        "data": {"source": source},
        **FAST,
    }
    body.update(overrides)
    path = folder / "crispml.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def _raw(content: bytes, name: str = "data.csv", **overrides: Any) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return spec(folder, name, **overrides)

    return build


def _table(change: Callable[[pd.DataFrame], pd.DataFrame], **overrides: Any):
    def build(folder: Path) -> Path:
        change(frame()).to_csv(folder / "data.csv", index=False)
        return spec(folder, **overrides)

    return build


def _spec_text(text: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        frame().to_csv(folder / "data.csv", index=False)
        path = folder / "crispml.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return build


def _spec_override(**overrides: Any) -> Callable[[Path], Path]:
    return _table(lambda f: f, **overrides)


def _csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode("utf-8")


def _truncated_gzip() -> bytes:
    data = gzip.compress(_csv_bytes(frame(2000)))
    return data[: len(data) // 2]


def _many_levels(f: pd.DataFrame) -> pd.DataFrame:
    big = frame(12_000, seed=1)
    return big.assign(code=[f"L{i % 10_000}" for i in range(len(big))])


def _three_date_formats(f: pd.DataFrame) -> pd.DataFrame:
    days = pd.date_range("2020-01-01", periods=len(f), freq="D")
    fmts = ["%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y"]
    return f.assign(day=[d.strftime(fmts[i % 3]) for i, d in enumerate(days)])


def _mixed(f: pd.DataFrame) -> pd.DataFrame:
    values: list[Any] = list(f["z"])
    for i in range(0, len(values), 7):
        values[i] = "n.a."
    return f.assign(z=values)


def _infinities(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.loc[:4, "x"] = np.inf
    f.loc[5:7, "z"] = -np.inf
    return f


def _one_mb_cell(f: pd.DataFrame) -> pd.DataFrame:
    notes = ["short note"] * len(f)
    notes[3] = "word " * 210_000
    return f.assign(note=notes)


def _unicode(f: pd.DataFrame) -> pd.DataFrame:
    f = f.rename(columns={"city": "ville_été"})
    return f.assign(ville_été=f["ville_été"].map({"north": "北", "south": "Süd", "east": "東🙂"}))


def _single_member_class(f: pd.DataFrame) -> pd.DataFrame:
    return f.assign(y=["yes"] + ["no"] * (len(f) - 1))


GOOD_HEADER = b"x,z,city,y\n"
BAD_FILES: dict[str, tuple[Callable[[Path], Path], tuple[str, str]]] = {
    "empty file": (_raw(b""), ("error", "data.csv")),
    "header only": (_raw(GOOD_HEADER), ("error", "data.csv")),
    "truncated gzip": (
        _raw(_truncated_gzip(), "data.csv.gz"),
        ("error", "truncated or corrupt"),
    ),
    "not gzip named .csv.gz": (_raw(b"x,y\n1,2\n", "data.csv.gz"), ("error", "data.csv.gz")),
    "non-UTF-8": (_raw(GOOD_HEADER + b"1,2,caf\xe9,yes\n" * 50), ("error", "not UTF-8")),
    "wrong delimiter": (
        _raw(_csv_bytes(frame()).replace(b",", b";")),
        ("error", "data.csv"),
    ),
    "ragged rows": (
        _raw(GOOD_HEADER + b"1,2,north,yes\n1,2,north,yes,extra,more\n" * 30),
        ("error", "data.csv"),
    ),
    "one row": (_raw(GOOD_HEADER + b"1,2,north,yes\n"), ("error", "")),
    "one column": (_raw(b"y\n" + b"yes\nno\n" * 60), ("error", "data.csv")),
    "binary garbage": (_raw(bytes(range(256)) * 40), ("error", "data.csv")),
    "missing file": (lambda folder: spec(folder, "nowhere.csv"), ("error", "nowhere.csv")),
    "a folder, not a file": (
        lambda folder: (folder / "data.csv").mkdir() or spec(folder),
        ("error", "data.csv"),
    ),
    "unsupported suffix": (_raw(b"PK\x03\x04", "data.xlsx"), ("error", "data.xlsx")),
    "corrupt parquet": (_raw(b"PAR1garbage", "data.parquet"), ("error", "Parquet")),
    "BOM": (_raw(b"\xef\xbb\xbf" + _csv_bytes(frame())), ("ok", "")),
    "duplicate names": (
        _raw(b"x,x,city,y\n" + b"1,2,north,yes\n3,4,south,no\n" * 60),
        ("error", "x"),
    ),
    "target missing": (_table(lambda f: f.drop(columns="y")), ("error", "y")),
    "target constant": (_table(lambda f: f.assign(y="yes")), ("error", "y")),
    "target all NaN": (_table(lambda f: f.assign(y=np.nan)), ("error", "y")),
    "a class with one member": (_table(_single_member_class), ("error", "")),
    "infinities": (_table(_infinities), ("ok", "infinite:x")),
    "mixed types": (_table(_mixed), ("ok", "")),
    "10,000-level categorical": (_table(_many_levels), ("ok", "code")),
    "dates in three formats": (_table(_three_date_formats), ("ok", "")),
    "1 MB text cell": (_table(_one_mb_cell), ("ok", "")),
    "unicode names and levels": (_table(_unicode), ("ok", "")),
    "all-NaN feature": (_table(lambda f: f.assign(empty=np.nan)), ("ok", "")),
}

BAD_SPECS: dict[str, tuple[Callable[[Path], Path], tuple[str, str]]] = {
    "not YAML": (_spec_text("name: [unclosed\n  problem: {"), ("error", "crispml.yaml")),
    "empty spec": (_spec_text(""), ("error", "crispml.yaml")),
    "a list, not a mapping": (_spec_text("- a\n- b\n"), ("error", "crispml.yaml")),
    "unknown key": (_spec_override(serach={"time_budget_s": 5}), ("error", "serach")),
    "unknown task": (
        _spec_override(problem={"task": "clustering", "target": "y"}),
        ("error", "clustering"),
    ),
    "target not in data": (
        _spec_override(problem={"task": "binary", "target": "deny"}),
        ("error", "deny"),
    ),
    "test_size 1.4": (_spec_override(split={"test_size": 1.4}), ("error", "test_size")),
    "negative budget": (
        _spec_override(search={**FAST["search"], "time_budget_s": -1}),
        ("error", "time_budget_s"),
    ),
    "unknown family": (
        _spec_override(search={**FAST["search"], "families": ["lgbm"]}),
        ("error", "lgbm"),
    ),
    "protected column absent": (
        _spec_override(fairness={"protected": ["gender"]}),
        ("error", "gender"),
    ),
    "bad metric for task": (
        _spec_override(problem={"task": "binary", "target": "y", "metric": "rmse"}),
        ("error", "rmse"),
    ),
    "wrong type for budget": (
        _spec_override(search={**FAST["search"], "time_budget_s": "soon"}),
        ("error", "time_budget_s"),
    ),
}
