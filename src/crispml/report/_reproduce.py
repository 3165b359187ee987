"""``reproduce.sh``: install the run's exact environment and re-run it from its own data.

The script is written from the manifest's ``reproduction`` entry (see
:mod:`crispml._reproduction`): the pinned requirements and the wheel of the crispml that
ran, both checked against their sha256 first, and the data copied into the run folder
(else read from the project, checked against its sha256). The re-run happens in a work
folder, never in the project.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crispml.spec import ProjectSpec


class RunFacts(Protocol):
    """What ``reproduce.sh`` is written from: any task's run (a ``RunRecord`` is one)."""

    @property
    def run_id(self) -> str:
        """The run's id."""

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest (its ``reproduction`` entry, inputs and hashes)."""

    @property
    def spec(self) -> ProjectSpec:
        """The run's resolved spec."""


_HEADER = """#!/usr/bin/env bash
# Re-run crispml engagement {run_id} from the data it used. Written by crispml; do not edit.
#
#   bash reproduce.sh [PROJECT_DIR]
#
# This run folder carries what the re-run needs: env/requirements.txt (every package at
# the version the run used; env/lock.json adds the sha256 of their installed files), the
# crispml that ran ({wheel}) and, when small enough, the data (data/snapshot/).
# PROJECT_DIR (default: two levels above this run folder, the project holding runs/) is
# read only when the data is not in this folder. Everything is written under WORK.
# Environment:
#   CRISPML_REPRODUCE_DIR=...  WORK (default: a new temporary folder); a venv already at
#                              WORK/venv is reused
#   CRISPML_PIP_ARGS=...       extra pip arguments, e.g. "--no-index --find-links DIR"
#   CRISPML_SKIP_INSTALL=1     use the current environment instead of a fresh venv
#   PYTHON=...                 interpreter for the venv (the run used Python {python})
set -euo pipefail
RUN_DIR="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
PROJECT_DIR="$(cd "${{1:-$RUN_DIR/../..}}" && pwd)"
WORK="${{CRISPML_REPRODUCE_DIR:-$(mktemp -d)}}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
PYTHON="${{PYTHON:-python3}}"
CRISPML="${{CRISPML:-crispml}}"
read -r -a PIP_ARGS <<< "${{CRISPML_PIP_ARGS:-}}"
"""

_INSTALL = """
# 1. Install the exact environment, then the crispml that ran (both checked first).
sha256sum --check --strict --quiet - <<EOF
{requirements_sha}  $RUN_DIR/{requirements}
{wheel_sha}  $RUN_DIR/{wheel}
EOF
if [ "${{CRISPML_SKIP_INSTALL:-0}}" != 1 ]; then
  "$PYTHON" -c 'import sys; v = "%d.%d" % sys.version_info[:2]; v == "{minor}" or print(
      "warning: the run used Python {python}, this is " + sys.version.split()[0], file=sys.stderr)'
  [ -x "$WORK/venv/bin/python" ] || "$PYTHON" -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install --quiet ${{PIP_ARGS[@]+"${{PIP_ARGS[@]}}"}} \\
    -r "$RUN_DIR/{requirements}"
  "$WORK/venv/bin/python" -m pip install --quiet ${{PIP_ARGS[@]+"${{PIP_ARGS[@]}}"}} \\
    --no-deps --force-reinstall "$RUN_DIR/{wheel}"
  CRISPML="$WORK/venv/bin/crispml"
fi
"""

_NO_ENV = """
# 1. This run folder records no environment (it predates env/): install crispml {version}
#    and the versions listed under "packages" in manifest.json, then set CRISPML_SKIP_INSTALL=1.
if [ "${{CRISPML_SKIP_INSTALL:-0}}" != 1 ]; then
  echo "FAILED: no env/ in $RUN_DIR; see step 1 of this script." >&2
  exit 1
fi
"""

_RUN = """
# 3. Re-run the engagement with the run's resolved spec ({spec_sha}).
cp "$RUN_DIR/spec.yaml" "$WORK/crispml.yaml"
"$CRISPML" run "$WORK/crispml.yaml" --runs-dir "$WORK/runs"
echo "Reproduced run folder(s): $WORK/runs"
echo "Check one, replaying it too: $CRISPML verify $WORK/runs/<run-id> --replay"
"""


def reproduce_script(record: RunFacts) -> str:
    """Return the text of ``reproduce.sh`` for the run.

    Parameters
    ----------
    record : RunFacts
        The run (a :class:`RunRecord`, or the facts of an anomaly run): its manifest's
        ``reproduction`` entry names the lock file, the wheel and the data copy, with
        their hashes.

    Returns
    -------
    str
        A bash script: check and install the locked requirements and crispml's wheel
        in a fresh venv, stage the data (sha256-checked) in a work folder, run
        ``crispml run`` on the run's ``spec.yaml`` there.
    """
    manifest = record.manifest
    reproduction: dict[str, Any] = manifest.get("reproduction") or {}
    python = str(reproduction.get("python") or manifest.get("python") or "3.11")
    text = _HEADER.format(
        run_id=record.run_id,
        wheel=reproduction.get("wheel", "env/crispml-*.whl"),
        python=python,
    )
    if reproduction:
        text += _INSTALL.format(
            requirements=reproduction["requirements"],
            requirements_sha=reproduction["requirements_sha256"],
            wheel=reproduction["wheel"],
            wheel_sha=reproduction["wheel_sha256"],
            python=python,
            minor=".".join(python.split(".")[:2]),
        )
    else:
        version = (manifest.get("packages") or {}).get("crispml", "?")
        text += _NO_ENV.format(version=version)
    text += _data_step(record, reproduction.get("data") or {})
    text += _RUN.format(spec_sha=manifest.get("spec_sha256", "?"))
    return text


def _data_step(record: RunFacts, data: dict[str, Any]) -> str:
    inputs = (record.manifest.get("inputs") or {}).get("data") or {}
    source = str(inputs.get("source") or record.spec.data.source or "")
    raw = inputs.get("raw_sha256")
    lines = ["", f"# 2. The data the run used: {source}."]
    if not (raw and source):
        lines.append(
            f"# {source or 'the data'} is packaged data (no raw file): its table hash "
            f"{inputs.get('table_sha256', '?')} is checked by crispml verify --replay."
        )
        if data.get("copy"):
            lines.append(f"# The table as loaded is kept in {data['copy']} (Parquet).")
        return "\n".join(lines) + "\n"
    copy = data.get("copy")
    if copy is None and data.get("size_bytes") is not None:
        lines.append(
            f"# Not copied into this folder: {data['size_bytes'] / 1e6:.1f} MB is over "
            f"data.snapshot_max_mb = {data.get('max_mb')}. It was read from {data.get('fetch')}."
        )
    if PurePosixPath(source).is_absolute():
        lines += _absolute_source(source, copy)
    else:
        lines += _relative_source(source, copy, data.get("fetch"))
    lines.append(f'echo "{raw}  $DATA" | sha256sum --check --strict -')
    return "\n".join(lines) + "\n"


def _relative_source(source: str, copy: str | None, fetch: str | None) -> list[str]:
    src = _dq(source)
    fetch_hint = f'cp {_dq(fetch)} \\"$PROJECT_DIR/{src}\\"' if fetch else "restore it"
    out = [f'DATA="$WORK/{src}"', 'mkdir -p "$(dirname "$DATA")"']
    if copy:
        out += [f'if [ -f "$RUN_DIR/{_dq(copy)}" ]; then', f'  cp "$RUN_DIR/{_dq(copy)}" "$DATA"']
        out.append(f'elif [ -f "$PROJECT_DIR/{src}" ]; then')
    else:
        out.append(f'if [ -f "$PROJECT_DIR/{src}" ]; then')
    out += [
        f'  cp "$PROJECT_DIR/{src}" "$DATA"',
        "else",
        f'  echo "FAILED: {src} is in neither $RUN_DIR nor $PROJECT_DIR. {fetch_hint}" >&2',
        "  exit 1",
        "fi",
    ]
    return out


def _absolute_source(source: str, copy: str | None) -> list[str]:
    src = _dq(source)
    hint = f'cp \\"$RUN_DIR/{_dq(copy)}\\" \\"{src}\\"' if copy else "restore it"
    return [
        f'DATA="{src}"',
        'if [ ! -f "$DATA" ]; then',
        f'  echo "FAILED: the spec reads {src}, which is missing. {hint}" >&2',
        "  exit 1",
        "fi",
    ]


def _dq(text: str) -> str:
    """Escape ``text`` for the inside of a double-quoted bash string."""
    for char in ("\\", '"', "$", "`"):
        text = text.replace(char, "\\" + char)
    return text
