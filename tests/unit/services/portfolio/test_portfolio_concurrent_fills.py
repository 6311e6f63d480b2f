"""Fills of one account arriving together never lose a position update (issue 9, point 6).

Fills are keyed by order id, so two fills of one instrument from different orders
reach the portfolio on different lanes, milliseconds apart. Each must be in the
stored ``positions`` row afterwards, on SQLite and PostgreSQL, run after run.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from jts.bus.inprocess import InProcessMessageBus
from jts.core.clocks import SimClock
from jts.domain.enums import LiquiditySide
from jts.domain.enums import Side
from jts.domain.events import FillEvent
from jts.domain.fills import Fill
from jts.domain.timestamps import NANOS_PER_MILLI
from jts.domain.timestamps import dt_to_ns
from jts.services.portfolio import PortfolioConfig
from jts.services.portfolio import PortfolioService
from jts.storage.sql.repositories import SqlStore

T0 = dt_to_ns(datetime(2026, 3, 3, 0, 30, tzinfo=UTC))
RUNS = 25


def a_fill(instrument_id: str, n: int, quantity: int) -> Fill:
    return Fill(
        fill_id=f"F-{uuid.uuid4().hex}",
        order_id=str(uuid.uuid4()),
        client_order_id=f"C{n}",
        instrument_id=instrument_id,
        side=Side.BUY,
        quantity=Decimal(quantity),
        price=Decimal(70_000),
        commission=Decimal(10),
        tax=Decimal(0),
        ts=T0 + n * 5 * NANOS_PER_MILLI,
        liquidity=LiquiditySide.TAKER,
    )


async def test_two_fills_5_ms_apart_both_reach_the_stored_position(sql_store: SqlStore) -> None:
    bus = InProcessMessageBus(queue_size=64, lanes=4)
    await bus.start()
    config = PortfolioConfig(account="paper", snapshot_every_bars=1_000)
    portfolio = PortfolioService(bus, SimClock(T0), sql_store.positions, sql_store.fills, config)
    await portfolio.start()
    try:
        for run in range(RUNS):
            instrument = f"KRX:{900_000 + run}"
            first, second = a_fill(instrument, 2 * run, 3), a_fill(instrument, 2 * run + 1, 4)
            await asyncio.gather(
                portfolio.handle_fill(FillEvent.from_fill(first, ts=first.ts, source="t")),
                portfolio.handle_fill(FillEvent.from_fill(second, ts=second.ts, source="t")),
            )
        stored = {p.instrument_id: p for p in await sql_store.positions.list("paper")}
        lost = [
            (instrument, row.quantity)
            for instrument, row in sorted(stored.items())
            if row.quantity != 7 or row.bought_quantity != 7 or row.fees != 20
        ]
        assert len(stored) == RUNS
        assert lost == []
    finally:
        await portfolio.stop()
        await bus.stop()
