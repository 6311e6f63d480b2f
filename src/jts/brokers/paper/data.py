"""The paper venue's MarketDataClient over any source of MarketDataBatch.

The source may be the SimulatedBarFeed, bars already in memory (``from_bars``)
or a replay from the BarStore (``from_store``). Prices and history come only
from what the stream has delivered (or, with a store, from the store up to the
replay's current time), so a strategy can never look ahead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable
from collections.abc import AsyncIterator
from collections.abc import Iterable
from collections.abc import Sequence
from decimal import Decimal

from jts.domain.errors import ConfigurationError
from jts.domain.instruments import KRX
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_DAY
from jts.ports.storage import BarStore

BatchSource = Iterable[MarketDataBatch] | AsyncIterable[MarketDataBatch]


class PaperMarketDataClient:
    """Streams batches from ``source`` and remembers the last price and recent bars."""

    def __init__(
        self,
        source: BatchSource,
        instruments: Sequence[Instrument],
        *,
        venue: str = "paper",
        bar_store: BarStore | None = None,
        history_limit: int = 240,
        replay_start_ns: int | None = None,
    ) -> None:
        self.venue = venue
        self._source = source
        self._instruments = list(instruments)
        self._store = bar_store
        self._history_limit = history_limit
        self._last: dict[str, Decimal] = {}
        self._history: dict[str, deque[Bar]] = {}
        self._now: int | None = replay_start_ns
        self._connected = False

    @classmethod
    def from_bars(
        cls,
        bars: Iterable[Bar],
        instruments: Sequence[Instrument],
        *,
        venue: str = "paper",
        history_limit: int = 240,
    ) -> PaperMarketDataClient:
        """Replay bars held in memory: one batch per bar close time, in time order."""
        return cls(batches_from_bars(bars), instruments, venue=venue, history_limit=history_limit)

    @classmethod
    def from_store(
        cls,
        bar_store: BarStore,
        instrument_ids: Sequence[str],
        start_ns: int,
        end_ns: int,
        *,
        instruments: Sequence[Instrument] = (),
        timeframe: Timeframe = Timeframe.M1,
        venue: str = "paper",
        history_limit: int = 240,
    ) -> PaperMarketDataClient:
        """Replay ``start_ns <= bar.ts < end_ns`` from the store, a day at a time."""
        known = {instrument.key: instrument for instrument in instruments}
        resolved = [known.get(key) or _instrument_for(key) for key in instrument_ids]
        source = store_batches(bar_store, list(instrument_ids), start_ns, end_ns, timeframe)
        return cls(
            source,
            resolved,
            venue=venue,
            bar_store=bar_store,
            history_limit=history_limit,
            replay_start_ns=start_ns,
        )

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    async def instruments(self) -> list[Instrument]:
        return list(self._instruments)

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        return self._last.get(instrument_id)

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        """Bars with ``start_ns <= ts < end_ns`` that were complete at the stream's time."""
        if self._store is not None:
            if self._now is not None:
                end_ns = min(end_ns, self._now - timeframe.nanos + 1)
            if end_ns <= start_ns:
                return []
            return await self._store.read_bars(instrument_id, start_ns, end_ns, timeframe)
        seen = [bar for bar in self._history.get(instrument_id, ()) if start_ns <= bar.ts < end_ns]
        if all(bar.timeframe is timeframe for bar in seen):
            return seen
        return aggregate(seen, timeframe)

    async def stream(self) -> AsyncIterator[MarketDataBatch]:
        """Batches in source order until the source ends or the client is disconnected."""
        self._connected = True
        async for batch in _iterate(self._source):
            if not self._connected:
                return
            self._remember(batch)
            yield batch

    def _remember(self, batch: MarketDataBatch) -> None:
        self._now = batch.ts
        for bar in batch.bars:
            self._last[bar.instrument_id] = bar.close
            if self._history_limit > 0:
                history = self._history.get(bar.instrument_id)
                if history is None:
                    history = deque(maxlen=self._history_limit)
                    self._history[bar.instrument_id] = history
                history.append(bar)
        for tick in batch.ticks:
            self._last[tick.instrument_id] = tick.price


def batches_from_bars(bars: Iterable[Bar]) -> list[MarketDataBatch]:
    """Group bars by close time (when each became known), oldest first."""
    by_close: dict[int, list[Bar]] = {}
    for bar in bars:
        by_close.setdefault(bar.close_ts, []).append(bar)
    return [
        MarketDataBatch(ts=ts, bars=tuple(sorted(group, key=lambda bar: bar.instrument_id)))
        for ts, group in sorted(by_close.items())
    ]


def aggregate(bars: Sequence[Bar], timeframe: Timeframe) -> list[Bar]:
    """Roll finer bars up into ``timeframe`` buckets aligned on UTC multiples of its length."""
    buckets: dict[int, list[Bar]] = {}
    for bar in bars:
        buckets.setdefault(bar.ts - bar.ts % timeframe.nanos, []).append(bar)
    return [
        Bar(
            instrument_id=group[0].instrument_id,
            timeframe=timeframe,
            ts=start,
            open=group[0].open,
            high=max(bar.high for bar in group),
            low=min(bar.low for bar in group),
            close=group[-1].close,
            volume=sum((bar.volume for bar in group), Decimal(0)),
        )
        for start, group in sorted(buckets.items())
    ]


async def _iterate(source: BatchSource) -> AsyncIterator[MarketDataBatch]:
    if isinstance(source, AsyncIterable):
        async for batch in source:
            yield batch
    else:
        for batch in source:
            yield batch


async def store_batches(
    store: BarStore, instrument_ids: list[str], start_ns: int, end_ns: int, timeframe: Timeframe
) -> AsyncIterator[MarketDataBatch]:
    """Read the store one day at a time so a long replay keeps memory flat."""
    window = start_ns
    while window < end_ns:
        stop = min(end_ns, window + NANOS_PER_DAY)
        day: list[Bar] = []
        for instrument_id in instrument_ids:
            day += await store.read_bars(instrument_id, window, stop, timeframe)
        for batch in batches_from_bars(day):
            yield batch
        window = stop


def _instrument_for(key: str) -> Instrument:
    instrument_id = InstrumentId.parse(key)
    if instrument_id.venue != KRX:
        raise ConfigurationError(f"pass an Instrument for {key}: only KRX stocks can be inferred")
    return krx_stock(instrument_id.code, instrument_id.code)
