"""CreonConfig lives with the venue; the `[creon]` table and JTS_CREON__* still set it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jts.app.settings import load_settings
from jts.brokers.creon.config import CreonConfig
from jts.brokers.creon.factory import build_creon
from jts.brokers.creon.factory import journal_path
from jts.domain.errors import ConfigurationError


def test_the_creon_table_and_its_environment_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "jts.toml"
    config.write_text(
        '[creon]\nbridge_url = "http://192.168.0.10:8790"\naccount = "12345678"\n'
        "lookup_timeout = 90\n"
    )
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    monkeypatch.setenv("JTS_CREON__SECRET", "  from-the-environment  ")
    monkeypatch.setenv("JTS_CREON__REQUEST_TIMEOUT", "4.5")
    creon = load_settings().creon
    assert isinstance(creon, CreonConfig)
    assert (creon.bridge_url, creon.account) == ("http://192.168.0.10:8790", "12345678")
    assert (creon.request_timeout, creon.lookup_timeout) == (4.5, 90.0)
    assert creon.shared_secret() == "from-the-environment"


def test_the_factory_builds_both_ports_over_one_bridge_client(tmp_path: Path) -> None:
    config = CreonConfig(secret="s3cret-value", account="12345678", lookup_timeout=80)
    venue = build_creon(config, state_dir=tmp_path, watch=("KRX:005930",))
    assert venue.data.bridge is venue.bridge is venue.execution.bridge
    assert venue.data.watch == ("KRX:005930",)
    assert (venue.bridge.timeout, venue.bridge.lookup_timeout) == (10.0, 80.0)
    assert venue.execution.journal.path == journal_path(config, tmp_path)
    assert journal_path(config, tmp_path).name == "creon-12345678-intents.jsonl"


def test_no_secret_stops_the_build() -> None:
    with pytest.raises(ConfigurationError, match="JTS_CREON__SECRET"):
        build_creon(CreonConfig(), state_dir=None)
