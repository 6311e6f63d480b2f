"""An unusable data folder fails once, naming the folder; a read-only one can still be read.

Run as a user would: the ``jts`` script in a subprocess. Root ignores file modes, so
as root the subprocess drops the capabilities that let it (then the modes hold).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from jts.storage.sql.migrate import head_revision

# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_LINUX_IMMUTABLE
_FILE_CAPABILITIES = (1, 2, 3, 9)
_PR_CAPBSET_DROP = 24

CSV = "timestamp,symbol,open,high,low,close,volume\n" + (
    "2026-03-03T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1200\n"
)


def _drop_file_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in _FILE_CAPABILITIES:
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture(scope="module")
def unprivileged() -> Callable[[], None] | None:
    """How to start a subprocess that file modes apply to (None: they already do)."""
    if os.geteuid() != 0:
        return None
    probe = subprocess.run(
        [sys.executable, "-c", "open('/proc/self/status').read()"],
        preexec_fn=_drop_file_capabilities,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("running as root and cannot drop file capabilities")
    return _drop_file_capabilities


def run_jts(
    tmp_path: Path, data: Path, *args: str, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "jts"
    found = str(script) if script.is_file() else shutil.which("jts")
    assert found is not None, "the jts console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    env.update(JTS_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [found, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=preexec,
    )


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join(result.stderr.split())  # rich wraps long messages


def read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture
def writable_again(tmp_path: Path) -> Iterator[None]:
    yield
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_a_data_folder_whose_parent_is_missing_is_named_and_not_created(tmp_path: Path) -> None:
    data = tmp_path / "typo" / "data"
    for command in (["run", "--sessions", "1", "--speed", "0"], ["db", "upgrade"]):
        message = refused(run_jts(tmp_path, data, *command))
        assert f"data folder {data} cannot be created: {data.parent} does not exist" in message
    assert not data.parent.exists()


@pytest.mark.usefixtures("writable_again")
def test_a_data_folder_in_a_read_only_folder_is_named(
    tmp_path: Path, unprivileged: Callable[[], None] | None
) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    read_only(parent)
    data = parent / "data"
    for command in (["run", "--sessions", "1", "--speed", "0"], ["demo", "--sessions", "1"]):
        message = refused(run_jts(tmp_path, data, *command, preexec=unprivileged))
        assert f"data folder {data} cannot be created in {parent}" in message


@pytest.mark.usefixtures("writable_again")
def test_a_read_only_data_folder_is_read_and_never_written(
    tmp_path: Path, unprivileged: Callable[[], None] | None
) -> None:
    data = tmp_path / "data"
    assert run_jts(tmp_path, data, "db", "upgrade").returncode == 0
    read_only(data)
    before = sorted(p.name for p in data.rglob("*"))

    current = run_jts(tmp_path, data, "db", "current", preexec=unprivileged)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == head_revision()
    orders = run_jts(tmp_path, data, "orders", "list", preexec=unprivileged)
    assert orders.returncode == 0, orders.stderr
    assert "Traceback" not in orders.stderr

    # Commands that write say so, naming the folder, and chDB prints nothing of its own.
    (tmp_path / "bars.csv").write_text(CSV)
    for command in (["data", "import", "bars.csv"], ["run", "--sessions", "1", "--speed", "0"]):
        result = run_jts(tmp_path, data, *command, preexec=unprivileged)
        assert f"data folder {data} is not writable" in refused(result)
        assert "Code:" not in result.stderr
    assert sorted(p.name for p in data.rglob("*")) == before


def test_a_database_that_was_never_created_is_not_created_by_reading(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert "empty database" in run_jts(tmp_path, data, "db", "current").stdout
    assert "no database yet" in refused(run_jts(tmp_path, data, "orders", "list"))
    assert list(data.iterdir()) == []


@pytest.mark.usefixtures("writable_again")
def test_chdb_refusing_its_folder_prints_no_raw_engine_lines(
    tmp_path: Path, unprivileged: Callable[[], None] | None
) -> None:
    data = tmp_path / "data"
    (data / "clickhouse").mkdir(parents=True)
    # The folder is writable, but the engine's own status file is not: chDB's C++ side
    # fails and writes "Code: 76 ..." to fd 2 itself.
    status = data / "clickhouse" / "status"
    status.touch()
    read_only(status)
    (tmp_path / "bars.csv").write_text(CSV)
    result = run_jts(tmp_path, data, "data", "import", "bars.csv", preexec=unprivileged)
    message = refused(result)
    assert "cannot connect to ClickHouse" in message and "Permission denied" in message
    assert not any(line.startswith("Code:") for line in result.stderr.splitlines())
