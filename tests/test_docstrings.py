"""Public callables carry NumPy-style docstrings (ruff only checks the format)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.test_public_api import PACKAGES


def _public_callables():
    for package in ["crispml", *PACKAGES]:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{package}.{name}", obj


@pytest.mark.parametrize(
    ("qualname", "obj"), list(_public_callables()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_callable_is_documented(qualname, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{qualname} has no docstring"
    if inspect.isfunction(obj):
        params = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
        if len(params) >= 2:
            assert "Parameters\n----------" in doc, f"{qualname}: no Parameters section"
