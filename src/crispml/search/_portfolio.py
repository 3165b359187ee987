"""The learned portfolio: starting configurations chosen offline on a corpus of tables.

``benchmarks/learn_portfolio.py`` fits a fixed set of configurations of every family
(its default and a few random draws from its search space) on a corpus of public tables
that installed packages ship, and keeps, per task, the ordered list of configurations
that greedily minimises the mean normalised regret over the corpus. The list is stored
next to this module (``portfolio.json``, with its provenance) and the search fits its
configurations first, before the family defaults and the tuning.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from crispml._utils._result import PhaseResult
from crispml.models import family_names, get_family

PORTFOLIO_FILE = "portfolio.json"
TASKS = ("binary", "multiclass", "regression")


class PortfolioEntry(BaseModel):
    """One starting configuration: a family and the values of its tuned parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    params: dict[str, Any]


class LeaveOneOut(BaseModel):
    """Held-out figures of one task: mean normalised regret on a table left out.

    Each table is left out in turn, the portfolio is learned on the others, and the
    regret on the left-out table of the best of the first ``k`` configurations is
    averaged over the tables: of the learned list alone (``portfolio``), of the list
    followed by the defaults of the families it left out, as the search fits them
    (``search``), and of the family defaults in the search's order (``defaults``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: list[int]
    portfolio: list[float]
    search: list[float]
    defaults: list[float]


class Provenance(BaseModel):
    """How the portfolio was learned (enough to regenerate it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    created: str
    machine: str
    crispml_version: str
    corpus: dict[str, list[str]]
    max_rows: int
    folds: int
    seed: int
    configs_per_family: int
    runtime_s: float
    leave_one_out: dict[str, LeaveOneOut]


class Portfolio(PhaseResult):
    """Per task, the ordered starting configurations of the search.

    Attributes
    ----------
    configs : dict
        Task -> configurations, best first.
    provenance : Provenance
        Corpus, date, command and machine of the learning run.
    """

    FILE = PORTFOLIO_FILE

    configs: dict[str, list[PortfolioEntry]]
    provenance: Provenance

    def for_task(self, task: str, families: Sequence[str]) -> list[PortfolioEntry]:
        """Return the configurations of ``task`` whose family is among ``families``.

        Examples
        --------
        >>> entries = load_portfolio().for_task("regression", ["lightgbm"])
        >>> {e.family for e in entries} <= {"lightgbm"}
        True
        """
        allowed = set(families)
        return [e for e in self.configs.get(task, []) if e.family in allowed]

    def problems(self) -> list[str]:
        """Return what is wrong with the stored configurations (empty when all are valid).

        A configuration is valid when its family is registered and supports the task,
        and each parameter is tuned by the family and lies inside its distribution.
        """
        known = set(family_names(baselines=False))
        found: list[str] = []
        for task, entries in self.configs.items():
            if task not in TASKS:
                found.append(f"{task}: not a task")
                continue
            for i, entry in enumerate(entries):
                where = f"{task}[{i}] {entry.family}"
                if entry.family not in known:
                    found.append(f"{where}: unknown family")
                    continue
                family = get_family(entry.family)
                if task not in family.tasks:
                    found.append(f"{where}: family does not support {task}")
                    continue
                space = family.search_space(1000, 10, task)
                for name, value in entry.params.items():
                    dist = space.get(name)
                    if dist is None:
                        found.append(f"{where}: {name} is not tuned")
                    elif not _inside(dist, value):
                        found.append(f"{where}: {name}={value!r} outside {dist}")
        return found


def _inside(dist: Any, value: Any) -> bool:
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


@functools.cache
def load_portfolio() -> Portfolio:
    """Return the portfolio stored in the package (``crispml/search/portfolio.json``)."""
    text = resources.files("crispml.search").joinpath(PORTFOLIO_FILE).read_text(encoding="utf-8")
    return Portfolio.from_json(text, source=f"crispml/search/{PORTFOLIO_FILE}")
