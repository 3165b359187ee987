"""How big a fitted model is: its serialized bytes, counted without writing them."""

from __future__ import annotations

import pickle
from typing import Any

MEMBER_SHARE = 0.5
"""Share of ``deployment.max_model_mb`` one candidate may take, so that an ensemble of a
few members can still fit the cap."""


class _Counter:
    """A file-like sink that counts the bytes written to it."""

    def __init__(self) -> None:
        self.n = 0

    def write(self, data: bytes | pickle.PickleBuffer) -> int:
        # Protocol 5 hands large arrays over as PickleBuffer objects (no len()).
        size = memoryview(data).nbytes
        self.n += size
        return size


def serialized_mb(model: Any) -> float:
    """Megabytes of ``model`` once serialized (pickle protocol 5, as skops stores arrays).

    The bytes are counted as they stream, never held: measuring a 1 GB forest costs no
    memory. The delivered files (skops, ONNX) are within a few percent of this figure.

    Examples
    --------
    >>> serialized_mb(list(range(10))) < 0.001
    True
    >>> import numpy as np
    >>> round(serialized_mb(np.zeros(1_000_000)), 1)  # large arrays stream as buffers
    8.0
    """
    sink = _Counter()
    pickle.dump(model, sink, protocol=5)
    return sink.n / 1e6
