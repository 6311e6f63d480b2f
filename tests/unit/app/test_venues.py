"""Live brokers built from settings: a missing credential stops the process with its name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from jts.app.settings import Settings
from jts.app.sources import market_source
from jts.app.venues import broker_execution
from jts.app.venues import broker_market_data
from jts.brokers.common.calendars import calendar_for_venue
from jts.domain.errors import ConfigurationError

ACCOUNT = {"name": "kis-1", "account": "50000001-01"}


def test_creon_without_a_bridge_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="JTS_CREON__SECRET"):
        broker_market_data(settings, "creon")
    with pytest.raises(ConfigurationError, match="JTS_CREON__SECRET"):
        broker_execution(settings, "creon")


def test_creon_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "creon-secret"
    secret.write_text("s3cret-value\n")
    settings = Settings(data_dir=tmp_path, creon={"secret_file": str(secret)})
    assert settings.creon.shared_secret() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    client = broker_execution(settings, "creon")
    assert client.venue == "creon"


def test_kis_without_accounts_or_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"\[\[kis.accounts\]\]"):
        broker_execution(Settings(data_dir=tmp_path), "kis")
    settings = Settings(data_dir=tmp_path, kis={"accounts": [ACCOUNT]})
    with pytest.raises(ConfigurationError, match="JTS_KIS__SECRETS__KIS_1__APP_KEY"):
        broker_execution(settings, "kis")
    with pytest.raises(ConfigurationError, match="JTS_KIS__SECRETS__KIS_1__APP_SECRET"):
        broker_market_data(settings, "kis")


def test_kis_trading_account_must_exist(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kis={"accounts": [ACCOUNT], "trading_account": "nope"})
    with pytest.raises(ConfigurationError, match="nope"):
        broker_execution(settings, "kis")


def test_embedded_run_refuses_a_live_feed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, feed={"source": "kis"})
    with pytest.raises(ConfigurationError, match="jts serve market-data"):
        asyncio.run(market_source(settings, calendar_for_venue("KRX"), None))  # type: ignore[arg-type]
