"""Market data collector: feed -> checks -> time-series store -> ``market.bars``.

Bars are checked before anything downstream sees them: a bar that is not a
one-minute bar on the minute (unless the config allows others, for research replays),
that is not newer than the last bar of its instrument (a duplicate or an out-of-order
replay), or that fails the bar checks
every import passes too (``jts.core.bar_checks``), is quarantined. Store writes
are batched (``flush_bars``) because the time-series store is built for large
inserts; ``stop`` flushes, so a clean shutdown leaves nothing half-written.

Every accepted batch is written to the bar journal before it is published, so
nothing downstream (a signal, an order, a fill) can outlive the bar behind it in
a crash: the next start stores what the journal holds before resuming.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from jts.core import topics
from jts.core.bar_checks import DEFAULT_MAX_JUMP
from jts.core.bar_checks import BarChecks
from jts.core.bar_checks import CalendarLookup
from jts.core.component import Component
from jts.domain.events import BarEvent
from jts.domain.events import TickEvent
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.ports import BarJournal
from jts.ports import BarStore
from jts.ports import Clock
from jts.ports import MessageBus
from jts.services.market_data.quarantine import Quarantine

log = logging.getLogger("jts.market_data")

_M1 = Timeframe.M1
_M1_NANOS = Timeframe.M1.nanos


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    source: str = "market-data"
    # Bars buffered before one batched insert into the time-series store.
    flush_bars: int = 5_000
    # Venue -> trading calendar for the bar checks; None: session minutes are not checked.
    calendars: CalendarLookup | None = None
    # A bar moving more than this from its instrument's previous close is flagged (kept).
    max_jump: Decimal | None = DEFAULT_MAX_JUMP
    # False for research replays of other timeframes (a daily file): the venue's feed and
    # store only know one-minute bars, so everything else keeps them.
    minute_bars_only: bool = True
    # The bars passed these same checks where they entered (a backtest's file is read
    # through them): only shape and order are checked again.
    checked_upstream: bool = False
    # Publish a batch's bars concurrently (one broker round trip per batch) or one by one.
    publish_concurrently: bool = True


@dataclass(slots=True)
class CollectorStats:
    batches: int = 0
    bars: int = 0
    ticks: int = 0
    stored: int = 0
    quarantined: int = 0
    flagged: int = 0


class MarketDataCollector(Component):
    def __init__(
        self,
        bus: MessageBus,
        clock: Clock,
        store: BarStore | None,
        config: CollectorConfig | None = None,
        journal: BarJournal | None = None,
    ) -> None:
        self.config = config or CollectorConfig()
        super().__init__(self.config.source)
        self._bus = bus
        self._clock = clock
        self._store = store
        # Without a store there is nothing to recover into, so nothing to journal.
        self._journal = journal if store is not None else None
        self._pending: list[Bar] = []
        self._last_bar_ts: dict[str, int] = {}
        self._checks = BarChecks(self.config.calendars, max_jump=self.config.max_jump)
        self.quarantine = Quarantine()
        self.stats = CollectorStats()

    async def _on_stop(self) -> None:
        await self.flush()

    def resume_after(self, latest: dict[str, int]) -> None:
        """Refuse bars not newer than these (instrument -> bar time), e.g. the store's latest.

        A restarted live feed may hand over minutes already published before the
        restart; they must not reach the strategies a second time.
        """
        for instrument_id, ts in latest.items():
            known = self._last_bar_ts.get(instrument_id)
            self._last_bar_ts[instrument_id] = ts if known is None else max(known, ts)

    async def run(self, stream: AsyncIterator[MarketDataBatch]) -> None:
        """Consume a live stream until it ends (live mode, real clock)."""
        async for batch in stream:
            await self.ingest(batch)

    async def ingest(self, batch: MarketDataBatch) -> None:
        """Check, buffer for the store and publish everything in ``batch``."""
        self.stats.batches += 1
        now = self._clock.timestamp_ns()
        bars = batch.bars
        if len(bars) == 1:  # one symbol's minute: no list to build, no gather to decide on
            accepted = list(bars) if self._accept(bars[0]) else []
        else:
            accepted = [bar for bar in bars if self._accept(bar)]
        if accepted:
            if self._journal is not None:
                self._journal.append(accepted)
            self._pending.extend(accepted)
            source = self.name
            if len(accepted) == 1:
                await self._bus.publish(
                    topics.MARKET_BARS, BarEvent.from_bar(accepted[0], ts=now, source=source)
                )
            else:
                await self._publish_all(
                    topics.MARKET_BARS,
                    [BarEvent.from_bar(bar, ts=now, source=source) for bar in accepted],
                )
        if batch.ticks:
            self.stats.ticks += len(batch.ticks)
            await self._publish_all(topics.MARKET_TICKS, _tick_events(batch.ticks, now, self.name))
        # Stored after publishing: the journal already holds the batch, and a store that
        # fails must not keep the minute from the strategies.
        if len(self._pending) >= self.config.flush_bars:
            await self.flush()

    async def _publish_all(self, topic: str, events: list[BarEvent] | list[TickEvent]) -> None:
        """Publish ``events`` in order, concurrently unless the config says one at a time.

        Concurrently, a bus that waits for its broker's acknowledgement (Kafka) takes one
        round trip per batch, not one per event. A bus that delivers inline (a backtest's)
        gains nothing from that and pays a task per event; one at a time, each event's
        consequences are also handled before the next event is published, whatever yields.
        """
        if len(events) == 1 or not self.config.publish_concurrently:
            for event in events:
                await self._bus.publish(topic, event)
        else:
            await asyncio.gather(*(self._bus.publish(topic, event) for event in events))

    async def flush(self) -> None:
        """Write buffered bars to the store in one batch."""
        if not self._pending or self._store is None:
            self._pending.clear()
            return
        bars, self._pending = self._pending, []
        sealed = self._journal.seal() if self._journal is not None else None
        try:
            self.stats.stored += await self._store.write_bars(bars)
        except BaseException:
            # Keep them for the next flush: a failed write must not lose bars. Their journal
            # segment stays too, released by the next flush that stores them.
            self._pending = bars + self._pending
            raise
        if self._journal is not None and sealed is not None:
            self._journal.release(sealed)

    def _accept(self, bar: Bar) -> bool:
        if self.config.minute_bars_only and (bar.timeframe is not _M1 or bar.ts % _M1_NANOS):
            self._reject(bar, "not a one-minute bar aligned to the minute")
            return False
        last = self._last_bar_ts.get(bar.instrument_id)
        if last is not None and bar.ts <= last:
            self._reject(bar, f"not newer than the last bar ({last})")
            return False
        if not self.config.checked_upstream:
            verdict = self._checks.check_bar(bar)
            if verdict.problem is not None:
                self._reject(bar, verdict.problem)
                return False
            if verdict.flag is not None:
                self.stats.flagged += 1
                log.warning("market data flagged: %s %s (%r)", bar.instrument_id, verdict.flag, bar)
        self._last_bar_ts[bar.instrument_id] = bar.ts
        self.stats.bars += 1
        return True

    def _reject(self, bar: Bar, reason: str) -> None:
        self.stats.quarantined += 1
        self.quarantine.add(self.name, reason, bar)


def _tick_events(ticks: Sequence[Tick], ts: int, source: str) -> list[TickEvent]:
    """One event per print; equal prints in a batch are numbered so none is dropped as a copy."""
    seen: dict[Tick, int] = {}
    events = []
    for tick in ticks:
        seq = seen.get(tick, 0)
        seen[tick] = seq + 1
        events.append(TickEvent.from_tick(tick, ts=ts, source=source, seq=seq))
    return events
