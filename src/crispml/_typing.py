"""Type aliases shared across crispml."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]
FrameLike: TypeAlias = pd.DataFrame
JSONDict: TypeAlias = dict[str, Any]
