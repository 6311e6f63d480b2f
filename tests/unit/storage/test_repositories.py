"""The repository ports on every store: in memory, a migrated SQLite file, a real PostgreSQL.

The rules are the ports' own, so each test runs on all three back ends; what only a
database has (its columns, migrations, outages) is tested under ``sql/``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal

import pytest

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import InvalidStateTransition
from jts.domain.errors import StorageError
from jts.domain.events import OrderStatusChanged
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.domain.strategies import StrategyStatus
from jts.ports import OutboxMessage
from repository_samples import T0
from repository_samples import S
from repository_samples import Store
from repository_samples import accepted_order
from repository_samples import as_stored
from repository_samples import make_fill
from repository_samples import make_order


async def test_order_round_trip_keeps_every_field_exact(store: Store) -> None:
    order = make_order(quantity="0.123456789012", price="91234567.123456789012")
    order.venue_order_id = None
    await store.orders.add(order)
    loaded = await store.orders.get(order.order_id)
    assert loaded == order
    assert loaded is not None
    assert loaded.quantity == Decimal("0.123456789012")
    assert str(loaded.quantity) == "0.123456789012"
    assert loaded.price == Decimal("91234567.123456789012")
    assert loaded.strategy_id == "sma_cross"
    assert await store.orders.get_by_client_id(order.client_order_id) == order


async def test_an_order_spending_a_cash_amount_keeps_it(store: Store) -> None:
    order = make_order(price=None, quantity="53")
    order.quote_quantity = Decimal("10000.12345678")
    await store.orders.add(order)
    loaded = await store.orders.get(order.order_id)
    assert loaded == order
    assert loaded is not None and loaded.quote_quantity == Decimal("10000.12345678")


async def test_market_order_without_price_and_strategy(store: Store) -> None:
    order = make_order(price=None, strategy_id=None)
    await store.orders.add(order)
    assert await store.orders.get(order.order_id) == order


async def test_unknown_ids_read_as_none(store: Store) -> None:
    assert await store.orders.get(str(uuid.uuid4())) is None
    assert await store.orders.get("not-a-uuid") is None
    assert await store.orders.get_by_client_id("JTSNOPE") is None


async def test_add_writes_the_creation_audit_entry(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    assert await store.orders.audit_trail(order.order_id) == [(None, S.NEW, T0)]


async def test_duplicate_client_order_id_is_a_storage_error(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    twin = make_order()
    twin.client_order_id = order.client_order_id
    with pytest.raises(StorageError, match=order.client_order_id):
        await store.orders.add(twin)
    assert len(await store.orders.list()) == 1


async def test_every_transition_is_audited_with_fills(store: Store) -> None:
    order = await accepted_order(store, quantity="10", price="70100")
    first = make_fill(order, "F-1", "4", "70100", T0 + 10)
    previous = order.apply_fill(first)
    assert await store.orders.save_transition(order, previous, fill=first)
    second = make_fill(order, "F-2", "6", "70000", T0 + 20)
    previous = order.apply_fill(second)
    assert await store.orders.save_transition(order, previous, fill=second)

    assert await store.orders.audit_trail(order.order_id) == [
        (None, S.NEW, T0),
        (S.NEW, S.SUBMITTED, T0 + 1),
        (S.SUBMITTED, S.ACCEPTED, T0 + 2),
        (S.ACCEPTED, S.PARTIALLY_FILLED, T0 + 10),
        (S.PARTIALLY_FILLED, S.FILLED, T0 + 20),
    ]
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.FILLED
    assert loaded.filled_quantity == Decimal(10)
    assert loaded.avg_fill_price == (Decimal(4) * 70100 + Decimal(6) * 70000) / 10
    assert loaded == order
    assert await store.fills.list(order_id=order.order_id) == [first, second]


async def test_transition_reason_is_stored(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    previous = order.transition(S.REJECTED, T0 + 5, "insufficient funds")
    assert await store.orders.save_transition(order, previous, reason="insufficient funds")
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.reason == "insufficient funds"


async def test_illegal_transition_is_never_persisted(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    with pytest.raises(InvalidStateTransition):
        order.transition(S.FILLED, T0 + 1)
    assert order.status is S.NEW
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.NEW
    assert await store.orders.audit_trail(order.order_id) == [(None, S.NEW, T0)]


async def test_stale_previous_status_is_refused_and_writes_nothing(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    order.transition(S.SUBMITTED, T0 + 1)
    previous = order.transition(S.ACCEPTED, T0 + 2)  # SUBMITTED was never saved
    with pytest.raises(StorageError, match="is stored as NEW"):
        await store.orders.save_transition(order, previous)
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.NEW
    assert len(await store.orders.audit_trail(order.order_id)) == 1


async def test_transition_of_an_unstored_order_is_refused(store: Store) -> None:
    order = make_order()
    previous = order.transition(S.SUBMITTED, T0 + 1)
    with pytest.raises(StorageError, match="is not stored"):
        await store.orders.save_transition(order, previous)


async def test_replayed_fill_writes_nothing(store: Store) -> None:
    order = await accepted_order(store, quantity="10")
    fill = make_fill(order, "F-1", "4", "70100", T0 + 10)
    previous = order.apply_fill(fill)
    assert await store.orders.save_transition(order, previous, fill=fill)

    replay = await store.orders.get(order.order_id)  # a copy that sees the report again
    assert replay is not None
    previous = replay.apply_fill(fill)
    assert replay.filled_quantity == Decimal(8)
    assert not await store.orders.save_transition(replay, previous, fill=fill)

    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.filled_quantity == Decimal(4)
    assert loaded.status is S.PARTIALLY_FILLED
    assert await store.fills.list() == [fill]
    assert len(await store.orders.audit_trail(order.order_id)) == 4


async def test_replayed_fill_is_recognised_even_after_later_changes(store: Store) -> None:
    order = await accepted_order(store, quantity="10")
    fill = make_fill(order, "F-1", "10", "70100", T0 + 10)
    stale_copy = await store.orders.get(order.order_id)
    previous = order.apply_fill(fill)
    assert await store.orders.save_transition(order, previous, fill=fill)
    assert stale_copy is not None
    previous = stale_copy.apply_fill(fill)  # ACCEPTED -> FILLED again, from an old copy
    assert not await store.orders.save_transition(stale_copy, previous, fill=fill)
    assert len(await store.fills.list()) == 1


async def test_fill_for_an_unknown_order_is_a_storage_error(store: Store) -> None:
    order = await accepted_order(store)
    ghost = replace(make_fill(order, "F-9", "1", "70100", T0 + 10), order_id=str(uuid.uuid4()))
    previous = order.apply_fill(ghost)
    with pytest.raises(StorageError):
        await store.orders.save_transition(order, previous, fill=ghost)
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.status is S.ACCEPTED  # the order update was rolled back with the fill
    assert await store.fills.list() == []


async def test_list_filters_and_orders_newest_first(store: Store) -> None:
    samsung_old = await accepted_order(store, created_ts=T0)
    samsung_new = make_order(created_ts=T0 + 100)
    await store.orders.add(samsung_new)
    hynix = make_order(instrument_id="KRX:000660", created_ts=T0 + 50)
    await store.orders.add(hynix)
    previous = hynix.transition(S.CANCELED, T0 + 60)
    assert await store.orders.save_transition(hynix, previous)

    ids = [o.order_id for o in await store.orders.list()]
    assert ids == [samsung_new.order_id, hynix.order_id, samsung_old.order_id]
    open_orders = await store.orders.list(statuses=[s for s in OrderStatus if s.is_open])
    assert [o.order_id for o in open_orders] == [samsung_new.order_id, samsung_old.order_id]
    by_symbol = await store.orders.list(instrument_id="KRX:000660")
    assert [o.order_id for o in by_symbol] == [hynix.order_id]
    newest = await store.orders.list(limit=1)
    assert [o.order_id for o in newest] == [samsung_new.order_id]
    accepted_samsung = await store.orders.list(statuses=[S.ACCEPTED], instrument_id="KRX:005930")
    assert [o.order_id for o in accepted_samsung] == [samsung_old.order_id]
    assert await store.orders.list(statuses=[]) == []


async def test_fills_list_by_order(store: Store) -> None:
    first = await accepted_order(store)
    second = await accepted_order(store, instrument_id="KRX:000660")
    fill_a = make_fill(first, "A", "1", "70100", T0 + 30)
    fill_b = make_fill(second, "B", "1", "150000", T0 + 20)
    for order, fill in ((first, fill_a), (second, fill_b)):
        previous = order.apply_fill(fill)
        assert await store.orders.save_transition(order, previous, fill=fill)
    assert await store.fills.list() == [fill_b, fill_a]
    assert await store.fills.list(order_id=first.order_id) == [fill_a]


async def test_net_filled_is_our_own_position_from_our_fills(store: Store) -> None:
    bought = await accepted_order(store, quantity="10")
    other = await accepted_order(store, instrument_id="KRX:000660")
    sold = make_order(quantity="4")
    sold = replace(sold, side=Side.SELL)
    await store.orders.add(sold)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        assert await store.orders.save_transition(sold, sold.transition(target, T0 + step))
    fills = [
        (bought, make_fill(bought, "B1", "6", "70100", T0 + 10)),
        (bought, make_fill(bought, "B2", "4", "70100", T0 + 11)),
        (sold, make_fill(sold, "S1", "2.5", "71000", T0 + 12)),
        (other, make_fill(other, "O1", "1", "150000", T0 + 13)),
    ]
    for order, fill in fills:
        assert await store.orders.save_transition(order, order.apply_fill(fill), fill=fill)
    assert await store.orders.net_filled("KRX:005930") == Decimal("7.5")
    # Counted per venue: shares a paper run holds are not shares held at a live broker.
    assert await store.orders.net_filled("KRX:005930", broker="paper") == Decimal("7.5")
    assert await store.orders.net_filled("KRX:005930", broker="kis") == 0
    assert await store.orders.net_filled("KRX:000660") == Decimal(1)
    assert await store.orders.net_filled("KRX:035720") == 0
    # All at once, as execution loads them at start: the same sums, per venue too.
    everything = {"KRX:005930": Decimal("7.5"), "KRX:000660": Decimal(1)}
    assert await store.orders.net_filled_all() == everything
    assert await store.orders.net_filled_all(broker="paper") == everything
    assert await store.orders.net_filled_all(broker="kis") == {}


async def test_positions_upsert_and_list_by_account(store: Store) -> None:
    position = Position(instrument_id="KRX:005930")
    order = make_order()
    position.apply_fill(make_fill(order, "P-1", "3", "70100.5", T0))
    await store.positions.upsert(position)
    assert await store.positions.list() == [as_stored(position)]

    position.apply_fill(make_fill(order, "P-2", "0.000000000001", "70200", T0 + 1))
    await store.positions.upsert(position)
    other = Position(instrument_id="UPBIT:KRW-BTC", account="crypto", quantity=Decimal("0.5"))
    await store.positions.upsert(other)

    stored = await store.positions.list()
    assert stored == [as_stored(position)]
    assert stored[0].quantity == Decimal("3.000000000001")  # quantities are kept exact
    assert stored[0].fees == Decimal(0)  # 0.000246913578 KRW of fees: money, whole won
    assert stored[0].taxes == Decimal(25)  # 24.6
    assert stored[0].last_price == Decimal("70200")
    assert await store.positions.list("crypto") == [other]
    assert await store.positions.list("nobody") == []


async def test_strategies_upsert_by_name_keeps_id(store: Store) -> None:
    created = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    first = StrategyRecord(
        name="sma_cross", status=StrategyStatus.DRAFT, created_at=created, dsl_code="a"
    )
    stored = await store.strategies.upsert(first)
    assert stored == first

    again = StrategyRecord(
        name="sma_cross",
        status=StrategyStatus.RUNNING,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        dsl_code="b",
    )
    updated = await store.strategies.upsert(again)
    assert updated.id == first.id
    assert updated.created_at == created
    assert (updated.status, updated.dsl_code) == (StrategyStatus.RUNNING, "b")

    other = await store.strategies.upsert(
        StrategyRecord(name="breakout", status=StrategyStatus.STOPPED, created_at=created)
    )
    listed = await store.strategies.list()
    assert [r.name for r in listed] == ["breakout", "sma_cross"]
    assert listed == [other, updated]
    assert listed[1].created_at.tzinfo is not None


async def test_a_second_order_with_the_same_client_id_is_a_duplicate(store: Store) -> None:
    first = make_order()
    await store.orders.add(first)
    again = replace(make_order(), client_order_id=first.client_order_id)
    with pytest.raises(DuplicateOrder):
        await store.orders.add(again)
    assert [o.order_id for o in await store.orders.list()] == [first.order_id]


async def test_no_stored_object_is_shared_with_a_caller(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    order.transition(S.SUBMITTED, T0 + 1)  # changed by the caller, never saved
    order.venue_order_id = "V-1"
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert (loaded.status, loaded.venue_order_id, loaded.updated_ts) == (S.NEW, None, T0)

    loaded.transition(S.REJECTED, T0 + 2, "changed on a copy that was read")
    loaded.quantity = Decimal(1)
    by_client = await store.orders.get_by_client_id(order.client_order_id)
    [listed] = await store.orders.list()
    for again in (await store.orders.get(order.order_id), by_client, listed):
        assert again is not None
        assert (again.status, again.quantity, again.reason) == (S.NEW, Decimal(10), None)

    assert await store.orders.save_transition(order, S.NEW)
    order.transition(S.ACCEPTED, T0 + 3)  # after the save: the stored copy stays SUBMITTED
    order.filled_quantity = Decimal(3)
    saved = await store.orders.get(order.order_id)
    assert saved is not None
    assert (saved.status, saved.filled_quantity, saved.venue_order_id) == (
        S.SUBMITTED,
        Decimal(0),
        "V-1",
    )

    position = Position(instrument_id="KRX:005930", quantity=Decimal(5), updated_ts=T0)
    await store.positions.upsert(position)
    position.quantity = Decimal(99)
    [held] = await store.positions.list()
    held.quantity = Decimal(7)
    assert [p.quantity for p in await store.positions.list()] == [Decimal(5)]

    record = StrategyRecord(
        name="sma_cross", status=StrategyStatus.DRAFT, created_at=datetime(2024, 5, 1, tzinfo=UTC)
    )
    returned = await store.strategies.upsert(record)
    record.dsl_code = "changed by the caller"
    returned.status = StrategyStatus.FAULTED
    [listed_record] = await store.strategies.list()
    listed_record.name = "renamed on a copy"
    [stored_record] = await store.strategies.list()
    assert (stored_record.name, stored_record.status, stored_record.dsl_code) == (
        "sma_cross",
        StrategyStatus.DRAFT,
        None,
    )


async def test_a_refused_write_writes_nothing(store: Store) -> None:
    first = make_order()
    first_event = status_message(first)
    await store.orders.add(first, outbox=[first_event])

    # An event id repeated in the batch, or stored already: the order goes with it.
    order = make_order(instrument_id="KRX:000660")
    twice = status_message(order)
    for outbox in ([twice, twice], [status_message(order), first_event]):
        with pytest.raises(StorageError):
            await store.orders.add(order, outbox=outbox)
        assert await store.orders.get(order.order_id) is None
        assert await store.orders.get_by_client_id(order.client_order_id) is None
        assert await store.orders.audit_trail(order.order_id) == []
        assert [o.order_id for o in await store.orders.list()] == [first.order_id]
        assert [p.message for p in await store.outbox.pending()] == [first_event]

    # A duplicate client order id takes its events down too.
    twin = replace(make_order(), client_order_id=first.client_order_id)
    with pytest.raises(DuplicateOrder):
        await store.orders.add(twin, outbox=[status_message(twin)])
    assert await store.orders.get(twin.order_id) is None
    assert [p.message for p in await store.outbox.pending()] == [first_event]

    # A transition with a fill and a refused event: no state, no fill, no audit, no position.
    for target in (S.SUBMITTED, S.ACCEPTED):
        assert await store.orders.save_transition(first, first.transition(target, T0 + 1))
    fill = make_fill(first, "F-1", "4", "70100", T0 + 10)
    attempt = await store.orders.get(first.order_id)
    assert attempt is not None
    previous = attempt.apply_fill(fill)
    with pytest.raises(StorageError):
        await store.orders.save_transition(attempt, previous, fill=fill, outbox=[first_event])
    stored = await store.orders.get(first.order_id)
    assert stored is not None
    assert (stored.status, stored.filled_quantity) == (S.ACCEPTED, Decimal(0))
    assert await store.fills.list() == []
    assert await store.orders.net_filled("KRX:005930") == 0
    assert len(await store.orders.audit_trail(first.order_id)) == 3
    assert [p.message for p in await store.outbox.pending()] == [first_event]
    # The fill was not recorded, so it is no replay: the same report now goes through.
    assert await store.orders.save_transition(attempt, previous, fill=fill)
    assert await store.fills.list() == [fill]


def status_message(order: Order) -> OutboxMessage:
    event = OrderStatusChanged.from_order(order, None, ts=1, source="test")
    return OutboxMessage(topics.ORDERS_EVENTS, event)


async def test_an_order_id_stored_already_is_refused_but_is_no_duplicate_order(
    store: Store,
) -> None:
    first = make_order()
    await store.orders.add(first)
    same_id = replace(make_order(), order_id=first.order_id)
    with pytest.raises(StorageError) as refused:
        await store.orders.add(same_id)
    assert not isinstance(refused.value, DuplicateOrder)
    assert await store.orders.get_by_client_id(same_id.client_order_id) is None


async def test_ids_are_uuids_read_back_in_their_canonical_form(store: Store) -> None:
    order = make_order()
    canonical = order.order_id
    order.order_id = canonical.upper().replace("-", "")
    await store.orders.add(order)
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.order_id == canonical
    previous = order.transition(S.SUBMITTED, T0 + 1)
    assert await store.orders.save_transition(order, previous)
    assert [to for _, to, _ in await store.orders.audit_trail(order.order_id)] == [
        S.NEW,
        S.SUBMITTED,
    ]

    not_a_uuid = make_order()
    not_a_uuid.order_id = "order-1"
    with pytest.raises(StorageError, match="is not a UUID"):
        await store.orders.add(not_a_uuid)
    with pytest.raises(StorageError, match="is not a UUID"):
        await store.orders.audit_trail("order-1")
    with pytest.raises(StorageError, match="is not a UUID"):
        await store.fills.list(order_id="order-1")
    assert [o.order_id for o in await store.orders.list()] == [canonical]


async def test_money_is_exact_and_comes_back_without_an_exponent(store: Store) -> None:
    order = make_order(price=None)
    order.quantity = Decimal("1E+1")  # what Decimal.normalize() makes of 10
    await store.orders.add(order)
    loaded = await store.orders.get(order.order_id)
    assert loaded is not None
    assert str(loaded.quantity) == "10"
    assert str(loaded.filled_quantity) == "0"

    inexact = make_order()
    inexact.price = 70100.5  # type: ignore[assignment]
    with pytest.raises(StorageError, match="money must be a Decimal"):
        await store.orders.add(inexact)
    endless = make_order()
    endless.quantity = Decimal("Infinity")
    with pytest.raises(StorageError, match="finite"):
        await store.orders.add(endless)
    assert [o.order_id for o in await store.orders.list()] == [order.order_id]


async def test_list_with_a_limit_of_zero_or_no_match_is_empty(store: Store) -> None:
    await accepted_order(store)
    assert await store.orders.list(limit=0) == []
    assert await store.orders.list(instrument_id="KRX:035720") == []
    assert await store.orders.list(statuses=[S.FILLED], limit=5) == []
    assert len(await store.orders.list(statuses=[S.ACCEPTED, S.NEW], limit=5)) == 1


async def test_a_strategy_needs_an_aware_time_and_an_id_of_its_own(store: Store) -> None:
    naive = StrategyRecord(
        name="sma_cross", status=StrategyStatus.DRAFT, created_at=datetime(2024, 5, 1)
    )
    with pytest.raises(StorageError):
        await store.strategies.upsert(naive)
    seoul = timezone(timedelta(hours=9))
    first = await store.strategies.upsert(
        replace(naive, created_at=datetime(2024, 5, 1, 9, tzinfo=seoul))
    )
    assert first.created_at == datetime(2024, 5, 1, 0, tzinfo=UTC)
    assert first.created_at.utcoffset() == timedelta(0)
    same_id = StrategyRecord(
        name="breakout", status=StrategyStatus.DRAFT, created_at=first.created_at, id=first.id
    )
    with pytest.raises(StorageError):
        await store.strategies.upsert(same_id)
    with pytest.raises(StorageError, match="is not a UUID"):
        await store.strategies.upsert(replace(same_id, id="breakout-1"))
    assert [r.name for r in await store.strategies.list()] == ["sma_cross"]


async def test_orders_created_at_the_same_time_list_by_id_and_fills_by_arrival(
    store: Store,
) -> None:
    orders = [await accepted_order(store, created_ts=T0) for _ in range(6)]
    expected = sorted(orders, key=lambda o: uuid.UUID(o.order_id).int, reverse=True)
    assert [o.order_id for o in await store.orders.list()] == [o.order_id for o in expected]

    fills = [make_fill(order, f"F-{n}", "1", "70100", T0 + 10) for n, order in enumerate(orders)]
    for order, fill in reversed(list(zip(orders, fills, strict=True))):
        assert await store.orders.save_transition(order, order.apply_fill(fill), fill=fill)
    assert await store.fills.list() == list(reversed(fills))
