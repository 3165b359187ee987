"""Fixtures of the audit tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.audit.audit_data_helpers import clean_frame


@pytest.fixture
def clean() -> pd.DataFrame:
    return clean_frame()
