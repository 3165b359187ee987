"""crispml: a complete, auditable machine-learning model development engagement.

Examples
--------
>>> import crispml
>>> crispml.ProjectSpec.model_fields["problem"].is_required()
True
"""

from __future__ import annotations

from crispml._engagement import Project, Run
from crispml.exceptions import CrispError, DataError, SpecError
from crispml.spec import ProjectSpec, load_spec

__version__ = "0.1.0"
__all__ = [
    "CrispError",
    "DataError",
    "Project",
    "ProjectSpec",
    "Run",
    "SpecError",
    "__version__",
    "load_spec",
]
