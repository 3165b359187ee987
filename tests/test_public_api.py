"""Every package's ``__all__`` is sorted, complete and importable."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import crispml

PACKAGES = sorted(
    name
    for _, name, is_pkg in pkgutil.iter_modules(crispml.__path__, "crispml.")
    if is_pkg and not name.split(".")[-1].startswith("_")
)


def isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _public(module) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, type(importlib))  # submodules
        and name not in {"annotations"}
    }


def _resolve_lazy(module) -> None:
    """Touch every exported name, so names a package imports on first use are in vars()."""
    for attr in module.__all__:
        getattr(module, attr)


def test_top_level_exports_are_complete():
    _resolve_lazy(crispml)
    assert set(crispml.__all__) == _public(crispml) | {"__version__"}
    assert set(crispml.__all__) <= set(dir(crispml))
    assert crispml.__all__ == sorted(crispml.__all__, key=isort_key)


@pytest.mark.parametrize("name", PACKAGES)
def test_subpackage_all_is_sorted_and_complete(name):
    module = importlib.import_module(name)
    _resolve_lazy(module)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_key), f"{name}.__all__ is not sorted"
    assert set(exported) == _public(module), f"{name}: __all__ differs from its public names"
    for attr in exported:
        assert getattr(module, attr) is not None
