"""One mapping from settings to services: embedded and distributed runs configure alike."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from jts.app.service_config import kernel_config
from jts.app.service_config import paper_config
from jts.app.settings import Settings
from jts.domain.enums import OrderType


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        execution={
            "notional_per_order": "2500000",
            "order_type": "MARKET",
            "limit_offset_ticks": 3,
            "storage_give_up_after": 7.5,
        },
        paper={"account": "acct-1", "starting_cash": "55000000", "commission_rate": "0.0002"},
    )


def test_kernel_config_carries_every_execution_and_paper_setting(tmp_path: Path) -> None:
    config = kernel_config(_settings(tmp_path), universe_size=12)
    assert config.sizing.notional_per_order == Decimal("2500000")
    assert config.sizing.order_type is OrderType.MARKET
    assert config.sizing.limit_offset_ticks == 3
    assert config.storage_retry.give_up_after == 7.5
    assert config.portfolio.account == "acct-1"
    assert config.portfolio.starting_cash == Decimal("55000000")
    # Five market minutes of bars for the whole universe between snapshots.
    assert config.portfolio.snapshot_every_bars == 60
    assert kernel_config(_settings(tmp_path), universe_size=0).portfolio.snapshot_every_bars == 5


def test_paper_config_follows_settings_with_fresh_ids_per_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first, second = paper_config(settings), paper_config(settings, history_limit=60)
    assert first.account == "acct-1"
    assert first.starting_cash == Decimal("55000000")
    assert first.commission_rate == Decimal("0.0002")
    assert second.history_limit == 60
    # Fill ids must never repeat across runs sharing one database.
    assert first.id_prefix != second.id_prefix
    assert first.id_prefix.startswith("PAPER")
