"""Serving runtime: the input contract, the ONNX model and the FastAPI service.

This package imports only onnxruntime, numpy, fastapi, uvicorn, pydantic and the
standard library, never crispml's training code, pandas or scikit-learn: the bundle
copies it into ``deploy/runtime/`` and runs it from a venv with only
``deploy/requirements.txt`` installed.
"""

from __future__ import annotations

from crispml.serve._app import ServeSettings, app_from_bundle, create_app
from crispml.serve._bundle import BundleError, verify_bundle
from crispml.serve._contract import (
    MISSING_LEVEL,
    Checked,
    ColumnContract,
    ContractViolation,
    InputContract,
    canonical_text,
)
from crispml.serve._density import DensityCheck, density_profile
from crispml.serve._runtime import ServingModel
from crispml.serve._server import default_log_path, serve

__all__ = [
    "MISSING_LEVEL",
    "BundleError",
    "Checked",
    "ColumnContract",
    "ContractViolation",
    "DensityCheck",
    "InputContract",
    "ServeSettings",
    "ServingModel",
    "app_from_bundle",
    "canonical_text",
    "create_app",
    "default_log_path",
    "density_profile",
    "serve",
    "verify_bundle",
]
