"""The SQL repositories against a migrated SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import InvalidStateTransition
from jts.domain.errors import StorageError
from jts.domain.fills import Fill
from jts.domain.money import quantize_money
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.domain.strategies import StrategyStatus
from jts.storage.sql.repositories import SqlStore

S = OrderStatus
T0 = 1_700_000_000_123_456_789


def make_order(
    *,
    instrument_id: str = "KRX:005930",
    created_ts: int = T0,
    quantity: str = "10",
    price: str | None = "70100",
    strategy_id: str | None = "sma_cross",
) -> Order:
    return Order(
        instrument_id=instrument_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        created_ts=created_ts,
        broker="paper",
        strategy_id=strategy_id,
        signal_id=str(uuid.uuid4()),
        time_in_force=TimeInForce.DAY,
    )


def make_fill(order: Order, fill_id: str, quantity: str, price: str, ts: int) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        commission=Decimal("0.000123456789"),
        tax=Decimal("12.3"),
        ts=ts,
        liquidity=LiquiditySide.MAKER,
    )


async def accepted_order(store: SqlStore, **kwargs: object) -> Order:
    order = make_order(**kwargs)  # type: ignore[arg-type]
    await store.orders.add(order)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        previous = order.transition(target, order.created_ts + step)
        assert await store.orders.save_transition(order, previous)
    return order


async def test_order_round_trip_keeps_every_field_exact(sql_store: SqlStore) -> None:
    order = make_order(quantity="0.123456789012", price="91234567.123456789012")
    order.venue_order_id = None
    await sql_store.orders.add(order)
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded == order
    assert loaded is not None
    assert loaded.quantity == Decimal("0.123456789012")
    assert str(loaded.quantity) == "0.123456789012"
    assert loaded.price == Decimal("91234567.123456789012")
    assert loaded.strategy_id == "sma_cross"
    assert await sql_store.orders.get_by_client_id(order.client_order_id) == order


async def test_market_order_without_price_and_strategy(sql_store: SqlStore) -> None:
    order = make_order(price=None, strategy_id=None)
    await sql_store.orders.add(order)
    assert await sql_store.orders.get(order.order_id) == order


async def test_an_order_spending_a_cash_amount_keeps_it(sql_store: SqlStore) -> None:
    order = make_order(price=None, quantity="53")
    order.quote_quantity = Decimal("10000.12345678")
    await sql_store.orders.add(order)
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded == order
    assert loaded is not None and loaded.quote_quantity == Decimal("10000.12345678")


async def test_unknown_ids_read_as_none(sql_store: SqlStore) -> None:
    assert await sql_store.orders.get(str(uuid.uuid4())) is None
    assert await sql_store.orders.get("not-a-uuid") is None
    assert await sql_store.orders.get_by_client_id("JTSNOPE") is None


async def test_roadmap_columns_are_filled(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    async with sql_store.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT id, strategy_id, symbol, side, status, broker, created_at FROM orders"
                )
            )
        ).one()
    assert uuid.UUID(str(row.id)) == uuid.UUID(order.order_id)
    assert row.strategy_id is not None
    assert (row.symbol, row.side, row.status, row.broker) == ("KRX:005930", "BUY", "NEW", "paper")
    assert row.created_at is not None


async def test_add_writes_the_creation_audit_entry(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    assert await sql_store.orders.audit_trail(order.order_id) == [(None, S.NEW, T0)]


async def test_duplicate_client_order_id_is_a_storage_error(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    twin = make_order()
    twin.client_order_id = order.client_order_id
    with pytest.raises(StorageError, match=order.client_order_id):
        await sql_store.orders.add(twin)
    assert len(await sql_store.orders.list()) == 1


async def test_every_transition_is_audited_with_fills(sql_store: SqlStore) -> None:
    order = await accepted_order(sql_store, quantity="10", price="70100")
    first = make_fill(order, "F-1", "4", "70100", T0 + 10)
    previous = order.apply_fill(first)
    assert await sql_store.orders.save_transition(order, previous, fill=first)
    second = make_fill(order, "F-2", "6", "70000", T0 + 20)
    previous = order.apply_fill(second)
    assert await sql_store.orders.save_transition(order, previous, fill=second)

    assert await sql_store.orders.audit_trail(order.order_id) == [
        (None, S.NEW, T0),
        (S.NEW, S.SUBMITTED, T0 + 1),
        (S.SUBMITTED, S.ACCEPTED, T0 + 2),
        (S.ACCEPTED, S.PARTIALLY_FILLED, T0 + 10),
        (S.PARTIALLY_FILLED, S.FILLED, T0 + 20),
    ]
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.FILLED
    assert loaded.filled_quantity == Decimal(10)
    assert loaded.avg_fill_price == (Decimal(4) * 70100 + Decimal(6) * 70000) / 10
    assert loaded == order
    assert await sql_store.fills.list(order_id=order.order_id) == [first, second]


async def test_transition_reason_is_stored(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    previous = order.transition(S.REJECTED, T0 + 5, "insufficient funds")
    assert await sql_store.orders.save_transition(order, previous, reason="insufficient funds")
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.reason == "insufficient funds"
    async with sql_store.engine.connect() as connection:
        reasons = (
            await connection.execute(sa.text("SELECT reason FROM order_audit ORDER BY id"))
        ).scalars()
        assert list(reasons) == [None, "insufficient funds"]


async def test_illegal_transition_is_never_persisted(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    with pytest.raises(InvalidStateTransition):
        order.transition(S.FILLED, T0 + 1)
    assert order.status is S.NEW
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.NEW
    assert await sql_store.orders.audit_trail(order.order_id) == [(None, S.NEW, T0)]


async def test_stale_previous_status_is_refused_and_writes_nothing(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    order.transition(S.SUBMITTED, T0 + 1)
    previous = order.transition(S.ACCEPTED, T0 + 2)  # SUBMITTED was never saved
    with pytest.raises(StorageError, match="is stored as NEW"):
        await sql_store.orders.save_transition(order, previous)
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.NEW
    assert len(await sql_store.orders.audit_trail(order.order_id)) == 1


async def test_transition_of_an_unstored_order_is_refused(sql_store: SqlStore) -> None:
    order = make_order()
    previous = order.transition(S.SUBMITTED, T0 + 1)
    with pytest.raises(StorageError, match="is not stored"):
        await sql_store.orders.save_transition(order, previous)


async def test_replayed_fill_writes_nothing(sql_store: SqlStore) -> None:
    order = await accepted_order(sql_store, quantity="10")
    fill = make_fill(order, "F-1", "4", "70100", T0 + 10)
    previous = order.apply_fill(fill)
    assert await sql_store.orders.save_transition(order, previous, fill=fill)

    replay = await sql_store.orders.get(order.order_id)  # a copy that sees the report again
    assert replay is not None
    previous = replay.apply_fill(fill)
    assert replay.filled_quantity == Decimal(8)
    assert not await sql_store.orders.save_transition(replay, previous, fill=fill)

    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.filled_quantity == Decimal(4)
    assert loaded.status is S.PARTIALLY_FILLED
    assert await sql_store.fills.list() == [fill]
    assert len(await sql_store.orders.audit_trail(order.order_id)) == 4


async def test_replayed_fill_is_recognised_even_after_later_changes(sql_store: SqlStore) -> None:
    order = await accepted_order(sql_store, quantity="10")
    fill = make_fill(order, "F-1", "10", "70100", T0 + 10)
    stale_copy = await sql_store.orders.get(order.order_id)
    previous = order.apply_fill(fill)
    assert await sql_store.orders.save_transition(order, previous, fill=fill)
    assert stale_copy is not None
    previous = stale_copy.apply_fill(fill)  # ACCEPTED -> FILLED again, from an old copy
    assert not await sql_store.orders.save_transition(stale_copy, previous, fill=fill)
    assert len(await sql_store.fills.list()) == 1


async def test_fill_for_an_unknown_order_is_a_storage_error(sql_store: SqlStore) -> None:
    order = await accepted_order(sql_store)
    ghost = replace(make_fill(order, "F-9", "1", "70100", T0 + 10), order_id=str(uuid.uuid4()))
    previous = order.apply_fill(ghost)
    with pytest.raises(StorageError):
        await sql_store.orders.save_transition(order, previous, fill=ghost)
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.ACCEPTED  # the order update was rolled back with the fill
    assert await sql_store.fills.list() == []


async def test_list_filters_and_orders_newest_first(sql_store: SqlStore) -> None:
    samsung_old = await accepted_order(sql_store, created_ts=T0)
    samsung_new = make_order(created_ts=T0 + 100)
    await sql_store.orders.add(samsung_new)
    hynix = make_order(instrument_id="KRX:000660", created_ts=T0 + 50)
    await sql_store.orders.add(hynix)
    previous = hynix.transition(S.CANCELED, T0 + 60)
    assert await sql_store.orders.save_transition(hynix, previous)

    ids = [o.order_id for o in await sql_store.orders.list()]
    assert ids == [samsung_new.order_id, hynix.order_id, samsung_old.order_id]
    open_orders = await sql_store.orders.list(statuses=[s for s in OrderStatus if s.is_open])
    assert [o.order_id for o in open_orders] == [samsung_new.order_id, samsung_old.order_id]
    by_symbol = await sql_store.orders.list(instrument_id="KRX:000660")
    assert [o.order_id for o in by_symbol] == [hynix.order_id]
    newest = await sql_store.orders.list(limit=1)
    assert [o.order_id for o in newest] == [samsung_new.order_id]
    accepted_samsung = await sql_store.orders.list(
        statuses=[S.ACCEPTED], instrument_id="KRX:005930"
    )
    assert [o.order_id for o in accepted_samsung] == [samsung_old.order_id]
    assert await sql_store.orders.list(statuses=[]) == []


async def test_fills_list_by_order(sql_store: SqlStore) -> None:
    first = await accepted_order(sql_store)
    second = await accepted_order(sql_store, instrument_id="KRX:000660")
    fill_a = make_fill(first, "A", "1", "70100", T0 + 30)
    fill_b = make_fill(second, "B", "1", "150000", T0 + 20)
    for order, fill in ((first, fill_a), (second, fill_b)):
        previous = order.apply_fill(fill)
        assert await sql_store.orders.save_transition(order, previous, fill=fill)
    assert await sql_store.fills.list() == [fill_b, fill_a]
    assert await sql_store.fills.list(order_id=first.order_id) == [fill_a]


async def test_net_filled_is_our_own_position_from_our_fills(sql_store: SqlStore) -> None:
    bought = await accepted_order(sql_store, quantity="10")
    other = await accepted_order(sql_store, instrument_id="KRX:000660")
    sold = make_order(quantity="4")
    sold = replace(sold, side=Side.SELL)
    await sql_store.orders.add(sold)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        assert await sql_store.orders.save_transition(sold, sold.transition(target, T0 + step))
    fills = [
        (bought, make_fill(bought, "B1", "6", "70100", T0 + 10)),
        (bought, make_fill(bought, "B2", "4", "70100", T0 + 11)),
        (sold, make_fill(sold, "S1", "2.5", "71000", T0 + 12)),
        (other, make_fill(other, "O1", "1", "150000", T0 + 13)),
    ]
    for order, fill in fills:
        assert await sql_store.orders.save_transition(order, order.apply_fill(fill), fill=fill)
    assert await sql_store.orders.net_filled("KRX:005930") == Decimal("7.5")
    # Counted per venue: shares a paper run holds are not shares held at a live broker.
    assert await sql_store.orders.net_filled("KRX:005930", broker="paper") == Decimal("7.5")
    assert await sql_store.orders.net_filled("KRX:005930", broker="kis") == 0
    assert await sql_store.orders.net_filled("KRX:000660") == Decimal(1)
    assert await sql_store.orders.net_filled("KRX:035720") == 0


def as_stored(position: Position) -> Position:
    """``position`` with its amounts of money rounded to its currency's unit."""
    return replace(
        position,
        realised_pnl=quantize_money(position.realised_pnl, position.currency),
        fees=quantize_money(position.fees, position.currency),
        taxes=quantize_money(position.taxes, position.currency),
    )


async def test_positions_upsert_and_list_by_account(sql_store: SqlStore) -> None:
    position = Position(instrument_id="KRX:005930")
    order = make_order()
    position.apply_fill(make_fill(order, "P-1", "3", "70100.5", T0))
    await sql_store.positions.upsert(position)
    assert await sql_store.positions.list() == [as_stored(position)]

    position.apply_fill(make_fill(order, "P-2", "0.000000000001", "70200", T0 + 1))
    await sql_store.positions.upsert(position)
    other = Position(instrument_id="UPBIT:KRW-BTC", account="crypto", quantity=Decimal("0.5"))
    await sql_store.positions.upsert(other)

    stored = await sql_store.positions.list()
    assert stored == [as_stored(position)]
    assert stored[0].quantity == Decimal("3.000000000001")  # quantities are kept exact
    assert stored[0].fees == Decimal(0)  # 0.000246913578 KRW of fees: money, whole won
    assert stored[0].taxes == Decimal(25)  # 24.6
    assert stored[0].last_price == Decimal("70200")
    assert await sql_store.positions.list("crypto") == [other]
    assert await sql_store.positions.list("nobody") == []


async def test_strategies_upsert_by_name_keeps_id(sql_store: SqlStore) -> None:
    created = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    first = StrategyRecord(
        name="sma_cross", status=StrategyStatus.DRAFT, created_at=created, dsl_code="a"
    )
    stored = await sql_store.strategies.upsert(first)
    assert stored == first

    again = StrategyRecord(
        name="sma_cross",
        status=StrategyStatus.RUNNING,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        dsl_code="b",
    )
    updated = await sql_store.strategies.upsert(again)
    assert updated.id == first.id
    assert updated.created_at == created
    assert (updated.status, updated.dsl_code) == (StrategyStatus.RUNNING, "b")

    other = await sql_store.strategies.upsert(
        StrategyRecord(name="breakout", status=StrategyStatus.STOPPED, created_at=created)
    )
    listed = await sql_store.strategies.list()
    assert [r.name for r in listed] == ["breakout", "sma_cross"]
    assert listed == [other, updated]
    assert listed[1].created_at.tzinfo is not None


async def test_unmigrated_database_errors_are_storage_errors(sql_url: str) -> None:
    store = SqlStore.open(sql_url)  # never migrated: the tables do not exist
    try:
        with pytest.raises(StorageError, match="listing orders failed"):
            await store.orders.list()
    finally:
        await store.close()


async def test_a_second_order_with_the_same_client_id_is_a_duplicate(sql_store: SqlStore) -> None:
    from jts.domain.errors import DuplicateOrder

    first = make_order()
    await sql_store.orders.add(first)
    again = replace(make_order(), client_order_id=first.client_order_id)
    with pytest.raises(DuplicateOrder):
        await sql_store.orders.add(again)
    assert [o.order_id for o in await sql_store.orders.list()] == [first.order_id]
