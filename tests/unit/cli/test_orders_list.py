"""``jts orders list`` reads only: no database is created, and a bare KRX code filters."""

from __future__ import annotations

import asyncio
import os
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jts.cli import main
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.orders import Order
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("JTS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _orders(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main.app, ["orders", "list", *args])
    return result.exit_code, " ".join(result.output.split())


def _order(instrument_id: str) -> Order:
    return Order(
        instrument_id=instrument_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(3),
        price=Decimal(70100),
        created_ts=1_780_000_000_000_000_000,
        broker="paper",
        strategy_id="sma_cross",
        signal_id=str(uuid.uuid4()),
        time_in_force=TimeInForce.DAY,
    )


def _store_orders(data_dir: Path, *instrument_ids: str) -> None:
    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'jts.db'}"
    upgrade(url)
    asyncio.run(_add_orders(url, instrument_ids))


async def _add_orders(url: str, instrument_ids: tuple[str, ...]) -> None:
    store = SqlStore.open(url)
    try:
        for instrument_id in instrument_ids:
            await store.orders.add(_order(instrument_id))
    finally:
        await store.close()


def test_without_a_database_it_says_so_and_creates_nothing(data_dir: Path) -> None:
    code, out = _orders()
    assert code == 2
    assert "no database yet" in out
    assert not data_dir.exists()


def test_it_points_at_the_demo_database_when_only_that_exists(data_dir: Path) -> None:
    (data_dir / "demo").mkdir(parents=True)
    (data_dir / "demo" / "jts.db").touch()
    code, out = _orders()
    assert code == 2 and "no database yet" in out
    assert f"JTS_DATA_DIR={data_dir / 'demo'}" in out.replace(" ", "")
    assert sorted(p.name for p in data_dir.iterdir()) == ["demo"]


def test_a_bare_krx_code_finds_the_krx_orders(data_dir: Path) -> None:
    _store_orders(data_dir, "KRX:005930", "KRX:000660")
    for typed in ("005930", "KRX:005930", "krx:005930"):
        code, out = _orders("--symbol", typed)
        assert code == 0, out
        assert "1 orders" in out and "KRX:005930" in out and "KRX:000660" not in out


def test_order_times_are_shown_in_kst_like_the_rest(data_dir: Path) -> None:
    _store_orders(data_dir, "KRX:005930")
    code, out = _orders()
    assert code == 0, out
    assert "created (KST)" in out and "2026-05-29 05:26:40" in out  # 2026-05-28 20:26:40 UTC


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("5930", "expected a KRX code like 005930"),
        ("KRX:59", "a KRX code is six characters"),
        ("NYSE:AAPL", "unknown venue 'NYSE'"),
        ("KRX:", "not of the form VENUE:CODE"),
    ],
)
def test_a_malformed_or_unknown_symbol_is_a_clear_error(
    data_dir: Path, typed: str, words: str
) -> None:
    code, out = _orders("--symbol", typed)
    assert code == 2, out
    assert words in out
