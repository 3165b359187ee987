"""Saving fitted pipelines without pickle: skops with an explicit trust list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crispml._utils._io import atomic_write_bytes
from crispml.exceptions import CrispError
from crispml.models._calibrated import CalibratedModel
from crispml.models._ensemble import WeightedEnsemble

_TRUSTED_PREFIXES = (
    "sklearn.",
    "lightgbm.",
    "xgboost.",
    "catboost.",
    "numpy.",
    "builtins.",
    "collections.",
    "scipy.",
    "functools.partial",
)
"""Module prefixes whose types crispml writes in a pipeline and trusts when it reads one."""

_TRUSTED_CRISPML = frozenset(
    {
        *(f"{cls.__module__}.{cls.__qualname__}" for cls in (CalibratedModel, WeightedEnsemble)),
        "crispml.features._dates.DateFeatures",  # named, so models never loads features
        "crispml.features._embed.SentenceEmbedding",
    }
)
"""crispml's own types in a saved model: the deployable models, the date and embedding steps."""

_MSG_UNTRUSTED = (
    "{path}: the model file holds types crispml does not trust ({types}). "
    "It was not written by crispml; load it only if you know its origin, with "
    "skops.io.load(path, trusted=[...])."
)


def save_pipeline(pipeline: Any, path: str | Path) -> Path:
    """Write a fitted pipeline with skops (no code runs when it is read back).

    Parameters
    ----------
    pipeline : estimator
        A fitted pipeline or estimator.
    path : str or Path
        Destination, written atomically.

    Returns
    -------
    Path
    """
    import zipfile

    import skops.io as sio

    # Deflated: skops writes every tree as its own JSON object (about 17 kB each, however
    # small the tree), so a bag of forests stored raw was 10x its pickled size (German
    # credit: 118 MB vs 11.7 MB; deflated at level 1, 13.8 MB, in the same time).
    data = sio.dumps(pipeline, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    return atomic_write_bytes(path, data)


def load_pipeline(path: str | Path) -> Any:
    """Read a pipeline written by :func:`save_pipeline`, trusting only known libraries.

    Raises
    ------
    CrispError
        If the file holds any type outside the trust list.
    """
    import skops.io as sio

    data = Path(path).read_bytes()
    untrusted = sio.get_untrusted_types(data=data)
    refused = [
        t for t in untrusted if not (t.startswith(_TRUSTED_PREFIXES) or t in _TRUSTED_CRISPML)
    ]
    if refused:
        raise CrispError(_MSG_UNTRUSTED.format(path=path, types=", ".join(sorted(refused)[:5])))
    return sio.loads(data, trusted=untrusted)
