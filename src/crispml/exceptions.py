"""The one error tree of crispml.

Every error a user can cause derives from :class:`CrispError`, and also from the
builtin exception users already catch (``ValueError``, ``ImportError``...). The CLI
turns any :class:`CrispError` into a one-line message and exit code 2.
"""

from __future__ import annotations

import sklearn.exceptions

__all__ = [
    "AuditBlockedError",
    "CrispError",
    "CrispExperimentalWarning",
    "CrispWarning",
    "DataError",
    "DeploymentError",
    "MissingDependencyError",
    "NotFittedError",
    "ReportError",
    "SearchError",
    "SigningError",
    "SpecError",
    "UnknownModelFamilyError",
]


class CrispError(Exception):
    """Base class of every error crispml raises on purpose."""


class SpecError(CrispError, ValueError):
    """The project spec is invalid: a field has a value that is not allowed."""


class DataError(CrispError, ValueError):
    """The data cannot be loaded or does not fit the spec."""


class UnknownModelFamilyError(CrispError, KeyError):
    """No model family is registered under the requested name."""

    def __str__(self) -> str:
        # KeyError quotes its argument; we want the plain sentence.
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(CrispError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""


class NotFittedError(CrispError, sklearn.exceptions.NotFittedError):  # type: ignore[misc]
    """An estimator or run was used before it was fitted."""


class AuditBlockedError(CrispError, RuntimeError):
    """The data audit found a blocking problem that the spec does not acknowledge."""


class DeploymentError(CrispError, RuntimeError):
    """Export, parity or packaging of the model failed."""


class SearchError(CrispError, RuntimeError):
    """The model search ended without any model it could select."""


class ReportError(CrispError, ValueError):
    """A folder given to ``crispml report`` or ``crispml verify`` is not a usable run folder."""


class SigningError(CrispError, ValueError):
    """A signing key (``CRISPML_SIGNING_KEY``, the user's key, or ``--key``) is unusable."""


class CrispWarning(UserWarning):
    """Base class of the warnings crispml emits."""


class CrispExperimentalWarning(CrispWarning):
    """The API used is new and may change without a deprecation period."""
