"""What every broker adapter promises, whatever the venue (paper, KIS, Creon; crypto later).

Each test drives the adapter only through the MarketDataClient and
ExecutionClient ports and the fake venue's controls; none reaches inside an
adapter.
"""

from __future__ import annotations

from decimal import Decimal

from fakes.venue_harness import Reports
from fakes.venue_harness import VenueHarness
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from waiting import eventually

PRICE = Decimal(70_000)


def limit(h: VenueHarness, cid: str, price: Decimal, qty: int = 10, side: Side = Side.BUY) -> Order:
    return Order(
        h.instrument_id,
        side,
        OrderType.LIMIT,
        Decimal(qty),
        price,
        1,
        "contract",
        client_order_id=cid,
    )


def wire(h: VenueHarness) -> Reports:
    reports = Reports()
    h.execution.set_report_handler(reports)
    return reports


async def test_quote_follows_the_market(venue: VenueHarness) -> None:
    await venue.set_price(PRICE + 5 * venue.tick())
    assert await venue.market.latest_price(venue.instrument_id) == PRICE + 5 * venue.tick()


async def test_minute_bars_in_the_window_oldest_first(venue: VenueHarness) -> None:
    start, end = await venue.seed_history()
    bars = await venue.market.historical_bars(venue.instrument_id, start, end, Timeframe.M1)
    assert bars, "the venue holds history in the window"
    assert all(start <= b.ts < end and b.timeframe is Timeframe.M1 for b in bars)
    assert [b.ts for b in bars] == sorted({b.ts for b in bars})
    assert all(b.instrument_id == venue.instrument_id for b in bars)


async def test_the_stream_carries_the_market(venue: VenueHarness) -> None:
    before = len(venue.streamed)
    await venue.set_price(PRICE + venue.tick())
    await eventually(lambda: len(venue.streamed) > before)
    latest = venue.streamed[-1]
    prices = [t.price for t in latest.ticks] + [b.close for b in latest.bars]
    assert PRICE + venue.tick() in prices


async def test_submit_is_acknowledged_and_queryable(venue: VenueHarness) -> None:
    reports = wire(venue)
    await venue.execution.submit_order(limit(venue, "k-submit", PRICE - 10 * venue.tick()))
    accepted = await reports.wait_for("k-submit", OrderStatus.ACCEPTED)
    assert accepted.venue_order_id
    status = await venue.execution.query_order("k-submit")
    assert status is not None
    assert status.status is OrderStatus.ACCEPTED
    assert status.venue_order_id == accepted.venue_order_id
    assert status.quantity == 10 and status.side is Side.BUY
    assert "k-submit" in [o.client_order_id for o in await venue.execution.open_orders()]
    assert await venue.execution.query_order("k-never-sent") is None


async def test_cancel_closes_the_order(venue: VenueHarness) -> None:
    reports = wire(venue)
    order = limit(venue, "k-cancel", PRICE - 10 * venue.tick())
    await venue.execution.submit_order(order)
    accepted = await reports.wait_for("k-cancel", OrderStatus.ACCEPTED)
    order.venue_order_id = accepted.venue_order_id
    await venue.execution.cancel_order(order)
    await reports.wait_for("k-cancel", OrderStatus.CANCELED)
    assert "k-cancel" not in [o.client_order_id for o in await venue.execution.open_orders()]


async def test_a_crossing_market_fills_the_order_once(venue: VenueHarness) -> None:
    reports = wire(venue)
    before = await venue.execution.account()
    await venue.execution.submit_order(limit(venue, "k-fill", PRICE))
    await reports.wait_for("k-fill", OrderStatus.ACCEPTED)
    await venue.set_price(PRICE - venue.tick())
    filled = await reports.wait_for("k-fill", OrderStatus.FILLED)
    assert filled.fill is not None
    fills = [f for f in await venue.execution.fills(0) if f.client_order_id == "k-fill"]
    assert sum(f.quantity for f in fills) == 10
    assert len({f.fill_id for f in fills}) == len(fills)
    reported = [r.fill for r in reports.of("k-fill") if r.fill is not None]
    assert sum(f.quantity for f in reported) == 10  # no fill reported twice
    after = await venue.execution.account()
    assert after.positions.get(venue.instrument_id, Decimal(0)) == (
        before.positions.get(venue.instrument_id, Decimal(0)) + 10
    )
    assert after.cash < before.cash


async def test_balances(venue: VenueHarness) -> None:
    account = await venue.execution.account()
    assert account.currency == "KRW"
    # Every fake venue opens the account with 100,000,000 KRW; nothing is reserved yet.
    assert (account.cash, account.available_cash) == (Decimal(100_000_000), Decimal(100_000_000))


async def test_an_order_the_venue_refuses_is_rejected_with_a_reason(venue: VenueHarness) -> None:
    reports = wire(venue)
    # Far more than the account's cash.
    await venue.execution.submit_order(limit(venue, "k-reject", PRICE, qty=10_000_000))
    rejected = await reports.wait_for("k-reject", OrderStatus.REJECTED)
    assert rejected.reason


async def test_a_price_off_the_tick_ladder_is_rejected_naming_the_nearest_valid_prices(
    venue: VenueHarness,
) -> None:
    """Every venue refuses it the same way (the one shared ladder); nothing is rounded."""
    reports = wire(venue)
    below = PRICE - 10 * venue.tick()
    for cid, price in (("k-tick", below + venue.tick() / 2), ("k-frac", below + Decimal("0.5"))):
        await venue.execution.submit_order(limit(venue, cid, price))
        rejected = await reports.wait_for(cid, OrderStatus.REJECTED)
        assert rejected.reason is not None
        assert f"nearest valid {below:,} below, {below + venue.tick():,} above" in rejected.reason
    assert await venue.execution.open_orders() == []
    assert not [r for r in reports.items if r.fill is not None]


async def test_resubmitting_a_client_order_id_never_places_a_second_order(
    venue: VenueHarness,
) -> None:
    reports = wire(venue)
    order = limit(venue, "k-twice", PRICE - 10 * venue.tick())
    await venue.execution.submit_order(order)
    await reports.wait_for("k-twice", OrderStatus.ACCEPTED)
    count = venue.venue_order_count()
    await venue.execution.submit_order(order)
    restarted = await venue.new_execution_client()
    restarted.set_report_handler(reports)
    await restarted.submit_order(order)  # returns once the venue has answered
    assert venue.venue_order_count() == count
    status = await restarted.query_order("k-twice")
    assert status is not None and status.status is OrderStatus.ACCEPTED
    assert venue.venue_order_count() == count
