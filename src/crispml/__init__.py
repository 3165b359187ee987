"""crispml: a complete, auditable machine-learning model development engagement.

Importing crispml has no side effects and loads no training library: the public names
below are imported on first use (PEP 562), so ``import crispml.serve`` stays a light
serving runtime.

Examples
--------
>>> import crispml
>>> crispml.ProjectSpec.model_fields["problem"].is_required()
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING

if _TYPE_CHECKING:
    from crispml._engagement import Project, Run
    from crispml.exceptions import CrispError, DataError, SpecError
    from crispml.search import AutoClassifier, AutoRegressor
    from crispml.spec import ProjectSpec, load_spec

__version__ = "0.1.0"
__all__ = [
    "AutoClassifier",
    "AutoRegressor",
    "CrispError",
    "DataError",
    "Project",
    "ProjectSpec",
    "Run",
    "SpecError",
    "__version__",
    "load_spec",
]

_LAZY = {
    "AutoClassifier": "crispml.search",
    "AutoRegressor": "crispml.search",
    "CrispError": "crispml.exceptions",
    "DataError": "crispml.exceptions",
    "Project": "crispml._engagement",
    "ProjectSpec": "crispml.spec",
    "Run": "crispml._engagement",
    "SpecError": "crispml.exceptions",
    "load_spec": "crispml.spec",
}
"""Public name -> module that defines it, imported when the name is first used."""


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'crispml' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
