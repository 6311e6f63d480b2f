"""Portfolio: positions, cash and P&L from fills, marked to market from bars.

The ledger is rebuilt from the stored fills at start (fills are the source of
truth), then kept current from the ``fills`` topic; a fill id already applied
is ignored, so a redelivered fill cannot be counted twice.

Fills are keyed by instrument, so one position's fills arrive in the order the
venue made them (a buy and a sell of one bar give the same average price and
realised P&L on every run). Fills of one account are still applied and stored
one at a time, under one lock: the stored fills are replayed before the first new
one, and a redelivered copy on another lane must not race its original.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal

from jts.core import topics
from jts.core.component import Component
from jts.core.storage_retry import StorageRetry
from jts.core.watermarks import STAGE_BARS
from jts.core.watermarks import STAGE_BOOKS
from jts.core.watermarks import STAGE_ORDERS
from jts.core.watermarks import Watermarks
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import MinuteMark
from jts.domain.events import PortfolioSnapshot
from jts.domain.events import PositionSnapshot
from jts.domain.fills import Fill
from jts.domain.positions import Position
from jts.ports import Clock
from jts.ports import FillRepository
from jts.ports import MessageBus
from jts.ports import PositionRepository

log = logging.getLogger("jts.portfolio")


@dataclass(frozen=True, slots=True)
class PortfolioConfig:
    account: str = "default"
    currency: str = "KRW"
    starting_cash: Decimal = Decimal(100_000_000)
    # Publish a snapshot after this many bars of market time.
    snapshot_every_bars: int = 500
    # And one after every fill, for watchers of the books. A snapshot lists every
    # position, so a backtest of many symbols (nobody watching) turns this off.
    snapshot_on_fill: bool = True


class PortfolioService(Component):
    GROUP = "portfolio"

    def __init__(
        self,
        bus: MessageBus,
        clock: Clock,
        positions: PositionRepository,
        fills: FillRepository,
        config: PortfolioConfig | None = None,
        name: str = "portfolio",
        *,
        storage_retry: StorageRetry | None = None,
        settle_marks: bool = False,
    ) -> None:
        super().__init__(name)
        # Over Kafka: a minute is booked once its bars and order execution's fills are in
        # (their marks); then a ``settled`` mark goes to ``control.marks`` for the feed.
        self._marks = Watermarks((STAGE_BARS, STAGE_ORDERS)) if settle_marks else None
        self.config = config or PortfolioConfig()
        self._bus = bus
        self._clock = clock
        self._positions_repo = positions
        self._fills_repo = fills
        self._retry = storage_retry or StorageRetry()
        # The service keeps one account's books: one lock serialises its position writes.
        self._writing = asyncio.Lock()
        # Over Kafka a fill can arrive before start has replayed the stored ones.
        self._loaded = False
        self.cash = self.config.starting_cash
        self.positions: dict[str, Position] = {}
        self._applied: set[str] = set()
        self._bars_since_snapshot = 0
        # Latest bar close per instrument, held or not: the mark (see ``_apply``).
        self._closes: dict[str, Decimal] = {}
        self.bought_notional = Decimal(0)
        self.sold_notional = Decimal(0)
        bus.subscribe(topics.FILLS, self.handle_fill, group=self.GROUP)
        bus.subscribe_inline(topics.MARKET_BARS, self.mark_bar, group=self.GROUP)

    async def _on_start(self) -> None:
        async with self._writing:
            await self._load()

    async def _load(self) -> None:
        """Replay the stored fills once, before any new one (the caller holds the lock)."""
        if self._loaded:
            return
        stored = await self._retry.call("reading the fills", self._fills_repo.list)
        for fill in sorted(stored, key=lambda f: (f.ts, f.fill_id)):
            self._apply(fill)
        # A crash between storing a fill and its position leaves the row behind: the fills
        # are the ledger, so the rows are written again from them.
        for position in list(self.positions.values()):
            await self._store(position)
        self._loaded = True

    async def handle_fill(self, event: Event) -> None:
        if not isinstance(event, FillEvent):
            await self._observe(event)
            return
        fill = event.fill
        async with self._writing:
            await self._load()
            if not self._apply(fill):
                return
            await self._store(self.positions[fill.instrument_id])
        if self.config.snapshot_on_fill:
            await self._publish_snapshot()

    async def _store(self, position: Position) -> None:
        await self._retry.call(
            f"storing position {position.account}/{position.instrument_id}",
            lambda: self._positions_repo.upsert(position),
        )

    async def handle_bar(self, event: Event) -> None:
        rest = self.mark_bar(event)
        if rest is not None:
            await rest

    def mark_bar(self, event: Event) -> Awaitable[None] | None:
        """``handle_bar`` as an inline handler: a plain call, a coroutine only for a snapshot."""
        if not isinstance(event, BarEvent):
            if isinstance(event, MinuteMark):
                return self._observe(event)
            return None
        bar = event.bar
        self._closes[bar.instrument_id] = bar.close
        position = self.positions.get(bar.instrument_id)
        if position is not None:
            position.last_price = bar.close
        self._bars_since_snapshot += 1
        if self._bars_since_snapshot >= self.config.snapshot_every_bars:
            return self._publish_snapshot()
        return None

    async def _observe(self, event: Event) -> None:
        marks = self._marks
        if marks is None or not isinstance(event, MinuteMark) or not marks.observe(event):
            return
        assert marks.minute is not None
        settled = MinuteMark.of(STAGE_BOOKS, marks.minute, source=self.name)
        await self._bus.publish(topics.MARKS, settled)

    def _apply(self, fill: Fill) -> bool:
        if fill.fill_id in self._applied:
            return False
        self._applied.add(fill.fill_id)
        position = self.positions.get(fill.instrument_id)
        if position is None:
            position = Position(
                fill.instrument_id, account=self.config.account, currency=self.config.currency
            )
            self.positions[fill.instrument_id] = position
        position.apply_fill(fill)
        # Mark at the market's latest close, not the fill price: a fill and the bar of the
        # same minute arrive in either order, and the mark must not depend on which came first.
        close = self._closes.get(fill.instrument_id)
        if close is not None:
            position.last_price = close
        self.cash += fill.cash_delta
        if fill.side.sign > 0:
            self.bought_notional += fill.notional
        else:
            self.sold_notional += fill.notional
        return True

    def equity(self) -> Decimal:
        """Cash plus every position at its mark: ``snapshot().equity`` without the snapshot."""
        # A loop, not ``sum`` over a generator: a backtest samples this every minute.
        # The same additions in the same order, so the same Decimal.
        market_value = Decimal(0)
        for position in self.positions.values():
            market_value += position.market_value()
        return self.cash + market_value

    def snapshot(self) -> PortfolioSnapshot:
        positions = tuple(
            PositionSnapshot(
                instrument_id=p.instrument_id,
                quantity=p.quantity,
                avg_price=p.avg_price,
                last_price=p.last_price,
                realised_pnl=p.realised_pnl,
                unrealised_pnl=p.unrealised_pnl(),
            )
            for p in sorted(self.positions.values(), key=lambda p: p.instrument_id)
        )
        market_value = sum((p.market_value() for p in self.positions.values()), Decimal(0))
        return PortfolioSnapshot.of(
            ts=self._clock.timestamp_ns(),
            source=self.name,
            account=self.config.account,
            cash=self.cash,
            equity=self.cash + market_value,
            realised_pnl=sum((p.realised_pnl for p in self.positions.values()), Decimal(0)),
            unrealised_pnl=sum((s.unrealised_pnl for s in positions), Decimal(0)),
            fees=sum((p.fees for p in self.positions.values()), Decimal(0)),
            taxes=sum((p.taxes for p in self.positions.values()), Decimal(0)),
            positions=positions,
        )

    async def _publish_snapshot(self) -> None:
        self._bars_since_snapshot = 0
        await self._bus.publish(topics.PORTFOLIO_SNAPSHOTS, self.snapshot())
