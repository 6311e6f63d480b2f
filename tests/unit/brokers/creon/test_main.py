"""The bridge's command line: no strong secret, no start; off Windows only --fake."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

from jts.brokers.creon.bridge import main as cli


def test_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no secret"):
        cli.read_secret(None, environ={})
    empty = tmp_path / "secret"
    empty.write_text("  \n")
    with pytest.raises(SystemExit, match="no secret"):
        cli.read_secret(empty, environ={cli.SECRET_ENV: "ignored when a file is given"})
    strong = secrets.token_urlsafe(32)
    assert cli.read_secret(None, environ={cli.SECRET_ENV: f" {strong} "}) == strong
    empty.write_text(f"{strong}\n")
    assert cli.read_secret(empty) == strong


@pytest.mark.parametrize(
    "weak", ["s3", "creon-test-secret", "jts-paper-venue-00000000000", "x" * 40]
)
def test_refuses_to_start_with_a_weak_secret_and_never_shows_it(
    weak: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit, match="too weak") as caught:
        cli.read_secret(None, environ={cli.SECRET_ENV: weak})
    assert weak not in str(caught.value)
    # The whole command line, on every interface: still no start.
    monkeypatch.setenv(cli.SECRET_ENV, weak)
    with pytest.raises(SystemExit, match="too weak"):
        cli.main(["--host", "0.0.0.0", "--port", "0", "--fake"])


def test_listening_beyond_loopback_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    assert not cli.warn_if_exposed("127.0.0.1") and not cli.warn_if_exposed("::1")
    assert "plain HTTP" not in caplog.text
    assert cli.warn_if_exposed("0.0.0.0")
    assert "plain HTTP" in caplog.text


@pytest.mark.skipif(sys.platform == "win32", reason="the real COM path exists on Windows")
def test_only_fake_off_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.SECRET_ENV, secrets.token_urlsafe(32))
    with pytest.raises(SystemExit, match="only on Windows"):
        cli.main(["--port", "0"])


def test_bridge_package_imports_nothing_heavy() -> None:
    """The bridge must install on 32-bit Windows Python: no httpx, kafka, pandas and such."""
    import subprocess

    code = (
        "import sys\n"
        "import jts.brokers.creon.bridge.app, jts.brokers.creon.bridge.main\n"
        "import jts.brokers.creon.bridge.fake_com\n"
        "bad = {'httpx', 'confluent_kafka', 'chdb', 'sqlalchemy', 'pandas', 'numpy', 'pyarrow',"
        " 'tenacity', 'exchange_calendars', 'typer', 'structlog'}\n"
        "loaded = bad & {m.split('.')[0] for m in sys.modules}\n"
        "jts = {m for m in sys.modules if m.startswith('jts.') and not m.startswith("
        "('jts.domain', 'jts.brokers.creon.bridge'))}\n"
        "jts -= {'jts.brokers', 'jts.brokers.creon', 'jts.brokers.creon.schemas'}\n"
        "assert not loaded and not jts, (loaded, jts)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
