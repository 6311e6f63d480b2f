"""``jts demo`` takes its sessions and seed from the settings unless given on the command line."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from jts.app.settings import Settings
from jts.cli import commands
from jts.cli import main


@pytest.fixture
def demo_feeds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Run ``jts demo`` without the platform: record the feed settings it would use."""
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JTS_DATA_DIR", str(tmp_path / "data"))
    seen: list[Any] = []

    async def fake_run_demo(settings: Settings, console: object) -> object:
        seen.append(settings.feed)
        return SimpleNamespace(books=SimpleNamespace(balanced=True))

    monkeypatch.setattr(commands, "run_demo", fake_run_demo)
    return seen


def test_demo_uses_feed_seed_and_sessions_from_the_settings(
    demo_feeds: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JTS_FEED__SEED", "11")
    monkeypatch.setenv("JTS_FEED__SESSIONS", "2")
    result = CliRunner().invoke(main.app, ["demo"])
    assert result.exit_code == 0, result.output
    assert (demo_feeds[0].seed, demo_feeds[0].sessions) == (11, 2)


def test_demo_options_win_over_the_settings(
    demo_feeds: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JTS_FEED__SEED", "11")
    monkeypatch.setenv("JTS_FEED__SESSIONS", "2")
    result = CliRunner().invoke(main.app, ["demo", "--seed", "5", "--sessions", "1"])
    assert result.exit_code == 0, result.output
    assert (demo_feeds[0].seed, demo_feeds[0].sessions) == (5, 1)
