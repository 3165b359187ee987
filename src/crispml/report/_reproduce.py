"""``reproduce.sh``: the exact install and command that re-run an engagement from raw data."""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath
from typing import Any

from crispml.report._record import RunRecord

_HEADER = """#!/usr/bin/env bash
# Re-run crispml engagement {run_id} from the raw data. Written by crispml; do not edit.
#
#   bash reproduce.sh [PROJECT_DIR]
#
# PROJECT_DIR: the folder the spec's data.source is relative to (default: two levels
# above this run folder, i.e. the project that holds runs/). Environment:
#   CRISPML_SKIP_INSTALL=1   use the current environment instead of a fresh venv
#   CRISPML_PACKAGE=...      where to install crispml from (default: {package})
#   PYTHON=...               interpreter for the venv (the run used Python {python})
set -euo pipefail
RUN_DIR="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
PROJECT_DIR="$(cd "${{1:-$RUN_DIR/../..}}" && pwd)"
WORK="${{CRISPML_REPRODUCE_DIR:-$(mktemp -d)}}"
PYTHON="${{PYTHON:-python3}}"
CRISPML="${{CRISPML:-crispml}}"

# 1. Install the versions the run used.
if [ "${{CRISPML_SKIP_INSTALL:-0}}" != 1 ]; then
  "$PYTHON" -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install --quiet \\
    "${{CRISPML_PACKAGE:-{package}}}" \\
{pins}
  CRISPML="$WORK/venv/bin/crispml"
fi
"""

_RUN = """
# 3. Re-run the engagement with the run's resolved spec ({spec_sha}).
SPEC_COPY="$PROJECT_DIR/.reproduce-{run_id}.yaml"
cp "$RUN_DIR/spec.yaml" "$SPEC_COPY"
trap 'rm -f "$SPEC_COPY"' EXIT
"$CRISPML" run "$SPEC_COPY" --runs-dir "$WORK/runs"
echo "Reproduced run folder(s): $WORK/runs"
echo "Compare the predictions with: crispml verify $RUN_DIR --replay"
"""


def reproduce_script(record: RunRecord) -> str:
    """Return the text of ``reproduce.sh`` for the run.

    Parameters
    ----------
    record : RunRecord
        The run folder (its manifest gives the versions, data hashes and seed).

    Returns
    -------
    str
        A bash script: install pinned versions in a fresh venv, check the raw data's
        sha256, run ``crispml run`` on the run's ``spec.yaml``.
    """
    packages: dict[str, Any] = record.manifest.get("packages") or {}
    crispml = packages.get("crispml")
    package = f"crispml=={crispml}" if crispml else "crispml"
    pins = [
        f"{name}=={version}" for name, version in sorted(packages.items()) if name != "crispml"
    ]
    pin_lines = " \\\n".join(f"    {shlex.quote(p)}" for p in pins) or "    pip"
    text = _HEADER.format(
        run_id=record.run_id,
        package=package,
        python=record.manifest.get("python", "3.11"),
        pins=pin_lines,
    )
    text += _data_check(record)
    text += _RUN.format(run_id=record.run_id, spec_sha=record.manifest.get("spec_sha256", "?"))
    return text


def _data_check(record: RunRecord) -> str:
    data = (record.manifest.get("inputs") or {}).get("data") or {}
    source = str(data.get("source") or record.spec.data.source or "")
    raw = data.get("raw_sha256")
    lines = ["", "# 2. Check that the raw data is the data the run used."]
    if raw and source:
        path = source if PurePosixPath(source).is_absolute() else f"$PROJECT_DIR/{source}"
        lines.append(f'echo "{raw}  {path}" | sha256sum --check --strict -')
    else:
        lines.append(
            f"# {source or 'the data'} is packaged data (no raw file): its table hash "
            f"{data.get('table_sha256', '?')} is checked by crispml verify --replay."
        )
    return "\n".join(lines) + "\n"
