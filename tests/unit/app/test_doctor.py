"""``jts doctor`` names what is inconsistent, offers a repair, and mends only when asked."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jts.app.doctor import Severity
from jts.app.doctor import examine
from jts.app.market_store import bar_journal_dir
from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.cli.main import app
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.events import SignalEvent
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.signals import Signal
from jts.ports.storage import DeadLetter
from jts.storage.bar_journal import FileBarJournal
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.dead_letters import DeadLetterFile
from jts.storage.dead_letters import dead_letters_path
from jts.storage.halts import FileHaltStore
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore

# 2026-11-02 10:00 KST, a session minute.
T0 = 1_793_581_200_000_000_000
MINUTE = 60_000_000_000


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def order(side: Side, quantity: str, ts: int) -> Order:
    return Order(
        instrument_id="KRX:005930",
        side=side,
        order_type=OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=Decimal(70_000),
        created_ts=ts,
        broker="paper",
        strategy_id="sma-cross-5-20",
        signal_id=uuid.uuid4().hex,
        time_in_force=TimeInForce.DAY,
    )


async def trade(store: SqlStore, side: Side, quantity: str, ts: int) -> Order:
    placed = order(side, quantity, ts)
    await store.orders.add(placed)
    for target in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        await store.orders.save_transition(placed, placed.transition(target, ts))
    fill = Fill(
        fill_id=uuid.uuid4().hex,
        order_id=placed.order_id,
        client_order_id=placed.client_order_id,
        instrument_id=placed.instrument_id,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(70_000),
        commission=Decimal(10),
        tax=Decimal(0),
        ts=ts + MINUTE,
        liquidity=LiquiditySide.TAKER,
    )
    await store.orders.save_transition(placed, placed.apply_fill(fill), fill=fill)
    return placed


async def open_store(settings: Settings) -> SqlStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sql_url)
    return SqlStore.open(settings.sql_url)


def severities(findings: list) -> dict[str, Severity]:  # type: ignore[type-arg]
    worst: dict[str, Severity] = {}
    rank = [Severity.OK, Severity.NOTE, Severity.PROBLEM]
    for f in findings:
        if f.check not in worst or rank.index(f.severity) > rank.index(worst[f.check]):
            worst[f.check] = f.severity
    return worst


async def test_a_consistent_folder_has_no_problem(settings: Settings) -> None:
    store = await open_store(settings)
    try:
        await trade(store, Side.BUY, "5", T0)
        await trade(store, Side.SELL, "5", T0 + 10 * MINUTE)
        # The portfolio keeps the positions table in step with the fills.
        position = Position("KRX:005930", account=settings.paper.account)
        for fill in await store.fills.list():
            position.apply_fill(fill)
        await store.positions.upsert(position)
    finally:
        await store.close()
    findings = await examine(settings)
    assert all(f.severity is not Severity.PROBLEM for f in findings), findings


def test_market_time_traded_twice_and_a_short_book_are_problems_with_an_archive(
    settings: Settings,
) -> None:
    async def setup() -> None:
        store = await open_store(settings)
        try:
            await trade(store, Side.BUY, "5", T0 + 100 * MINUTE)
            await trade(store, Side.SELL, "5", T0 + 200 * MINUTE)
            # A restart that went back in market time sells again what is already sold.
            await trade(store, Side.SELL, "3", T0 + 150 * MINUTE)
        finally:
            await store.close()

    asyncio.run(setup())
    findings = asyncio.run(examine(settings))
    worst = severities(findings)
    assert worst["market time"] is Severity.PROBLEM
    assert worst["positions"] is Severity.PROBLEM
    time_travel = next(f for f in findings if f.check == "market time")
    assert "already traded" in time_travel.message
    assert time_travel.repair is not None and "archive" in time_travel.repair.description

    # Nothing changed by looking.
    assert (settings.data_dir / "jts.db").exists()
    result = CliRunner().invoke(app, ["doctor"], env={"JTS_DATA_DIR": str(settings.data_dir)})
    assert result.exit_code == 1, result.output
    assert "jts doctor --repair" in result.output
    assert (settings.data_dir / "jts.db").exists()

    result = CliRunner().invoke(
        app, ["doctor", "--repair", "--yes"], env={"JTS_DATA_DIR": str(settings.data_dir)}
    )
    assert result.exit_code == 0, result.output
    assert not (settings.data_dir / "jts.db").exists()
    archived = list((settings.data_dir / "archive").glob("*/jts.db"))
    assert len(archived) == 1


def test_a_stale_positions_table_is_rewritten_from_the_fills_on_request(
    settings: Settings,
) -> None:
    async def setup() -> None:
        store = await open_store(settings)
        try:
            await trade(store, Side.BUY, "7", T0)
            await store.positions.upsert(
                replace(Position("KRX:005930", account=settings.paper.account), quantity=Decimal(2))
            )
        finally:
            await store.close()

    asyncio.run(setup())
    findings = asyncio.run(examine(settings))
    stale = next(f for f in findings if f.check == "positions table")
    assert stale.severity is Severity.PROBLEM and "stored 2, fills say 7" in stale.message
    assert stale.repair is not None
    # Asked and declined: nothing is mended.
    result = CliRunner().invoke(
        app, ["doctor", "--repair"], input="n\n", env={"JTS_DATA_DIR": str(settings.data_dir)}
    )
    assert result.exit_code == 1 and "skipped" in result.output
    result = CliRunner().invoke(
        app, ["doctor", "--repair"], input="y\n", env={"JTS_DATA_DIR": str(settings.data_dir)}
    )
    assert result.exit_code == 0, result.output

    async def stored() -> list[Position]:
        store = SqlStore.open(settings.sql_url)
        try:
            return await store.positions.list(settings.paper.account)
        finally:
            await store.close()

    (position,) = asyncio.run(stored())
    assert position.quantity == 7


async def test_journalled_bars_are_offered_to_the_store(settings: Settings) -> None:
    store = await open_store(settings)
    await store.close()
    journal = FileBarJournal(bar_journal_dir(settings))
    bar = Bar(
        "KRX:005930",
        Timeframe.M1,
        T0,
        Decimal(70_000),
        Decimal(70_100),
        Decimal(69_900),
        Decimal(70_000),
        Decimal(1_000),
    )
    journal.append([bar])
    journal.close()
    findings = await examine(settings)
    pending = next(f for f in findings if f.check == "bar journal")
    assert pending.severity is Severity.PROBLEM and "1 bars" in pending.message
    assert pending.repair is not None
    assert "stored 1" in await pending.repair.apply()
    bars = await ClickHouseBarStore.open(None, settings.data_dir)
    try:
        assert await bars.count() == 1
    finally:
        await bars.close()
    assert severities(await examine(settings))["bar journal"] is Severity.OK


def test_no_database_yet_is_nothing_to_check(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"JTS_DATA_DIR": str(settings.data_dir)})
    assert result.exit_code == 0, result.output
    assert "nothing to check" in result.output
    assert not (settings.data_dir / "jts.db").exists()


def test_a_halted_account_is_shown_with_how_to_resume(settings: Settings) -> None:
    async def setup() -> None:
        store = await open_store(settings)
        await store.close()
        await FileHaltStore(settings.data_dir).halt("paper", "foreign order X at the venue", T0)

    asyncio.run(setup())
    result = CliRunner().invoke(app, ["doctor"], env={"JTS_DATA_DIR": str(settings.data_dir)})
    assert result.exit_code == 1, result.output
    assert "halted" in result.output and "jts orders resume paper" in result.output


def test_dead_letters_are_shown_and_acknowledged_into_the_archive(settings: Settings) -> None:
    async def setup() -> None:
        store = await open_store(settings)
        await store.close()
        signal = SignalEvent.from_signal(
            Signal(
                strategy_id="sma-cross-5-20",
                instrument_id="KRX:005930",
                side=Side.BUY,
                ts=T0,
                price=Decimal(70_000),
                signal_id="sig-1",
            ),
            ts=T0,
            source="test",
        )
        await DeadLetterFile(dead_letters_path(settings.data_dir)).record(
            DeadLetter("signals", "order-execution", signal, "gave up: database is locked", T0)
        )

    asyncio.run(setup())
    env = {"JTS_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    assert "never became orders" in result.output and "database is locked" in result.output
    result = CliRunner().invoke(app, ["doctor", "--repair", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert not dead_letters_path(settings.data_dir).exists()
    assert list((settings.data_dir / "archive").glob("*/dead-letters.jsonl"))
