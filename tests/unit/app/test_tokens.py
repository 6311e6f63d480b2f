"""The service token: no default; generated once (mode 600) and shared on one host; set across."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest

from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.app.tokens import check_listen_address
from jts.app.tokens import is_loopback
from jts.app.tokens import service_token
from jts.app.tokens import token_path
from jts.app.tokens import venue_client_token
from jts.domain.errors import ConfigurationError
from jts.domain.secrets import weak_secret_reason


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(tmp_path: Path, **serve: object) -> Settings:
    return load_settings(data_dir=tmp_path / "data", serve=serve)


def test_there_is_no_default_token(tmp_path: Path) -> None:
    assert Settings().serve.token is None
    assert not token_path(settings(tmp_path)).exists()


def test_first_start_generates_a_private_token_that_the_client_on_this_host_reads(
    tmp_path: Path,
) -> None:
    venue_side = settings(tmp_path)
    token = service_token(venue_side)
    path = token_path(venue_side)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert weak_secret_reason(token) is None
    # Another process with the same data folder (order execution) finds the same token.
    assert venue_client_token(settings(tmp_path)) == token
    assert service_token(settings(tmp_path)) == token


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = token_path(settings(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_text(secrets.token_urlsafe(32))
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        service_token(settings(tmp_path))


def test_a_weak_token_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = token_path(settings(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_text("jts-paper-venue")
    path.chmod(0o600)
    with pytest.raises(ConfigurationError) as caught:
        service_token(settings(tmp_path))
    assert "jts-paper-venue" not in str(caught.value)


@pytest.mark.parametrize(
    "weak",
    [
        "jts-paper-venue",
        "jts-paper-venue-jts-paper-venue",
        "short-but-random-9f",
        "a" * 40,
        "abcabcabcabcabcabcabcabcabc",
        "0101010101010101010101010101012",
        "my-own-password-for-the-venue",
    ],
)
def test_weak_tokens_are_refused_at_start_and_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("JTS_SERVE__TOKEN", weak)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "serve.token" in str(caught.value)
    assert weak not in str(caught.value)
    monkeypatch.delenv("JTS_SERVE__TOKEN")
    monkeypatch.setenv("JTS_SERVE__PAPER_VENUE_TOKEN", weak)  # the old name is checked too
    with pytest.raises(ConfigurationError) as old_name:
        load_settings()
    assert weak not in str(old_name.value)


def test_strong_tokens_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for strong in (
        secrets.token_urlsafe(32),
        secrets.token_hex(16),
        "correct-horse-battery-staple",
    ):
        monkeypatch.setenv("JTS_SERVE__TOKEN", strong)
        token = load_settings().serve.token
        assert token is not None and token.get_secret_value() == strong


def test_a_client_of_a_venue_on_another_host_needs_the_token_set(tmp_path: Path) -> None:
    remote = settings(tmp_path, paper_venue_url="http://10.0.0.5:8705")
    with pytest.raises(ConfigurationError, match="JTS_SERVE__TOKEN"):
        venue_client_token(remote)
    assert not token_path(remote).exists()  # it did not invent one the venue cannot know
    token = secrets.token_urlsafe(32)
    explicit = settings(tmp_path, paper_venue_url="http://10.0.0.5:8705", token=token)
    assert venue_client_token(explicit) == token


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "venue.example.com"])
def test_listening_beyond_loopback_without_an_explicit_token_is_refused(
    tmp_path: Path, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigurationError, match="beyond this machine"):
        check_listen_address(settings(tmp_path, host=host), "paper-venue")
    check_listen_address(settings(tmp_path, host=host, token=secrets.token_urlsafe(32)), "x")
    assert "plain HTTP" in caplog.text


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2", "[::1]"])
def test_loopback_needs_no_explicit_token(tmp_path: Path, host: str) -> None:
    assert is_loopback(host)
    check_listen_address(settings(tmp_path, host=host), "paper-venue")
