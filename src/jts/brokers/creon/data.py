"""``CreonMarketData``: instruments, quotes, charts and a polled live feed through the bridge."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from decimal import Decimal

from pydantic import TypeAdapter

from jts.brokers.creon.errors import VENUE
from jts.brokers.creon.http import BridgeClient
from jts.brokers.creon.parsing import bar_of
from jts.brokers.creon.parsing import creon_code
from jts.brokers.creon.parsing import instrument_of
from jts.brokers.creon.schemas import BarsOut
from jts.brokers.creon.schemas import InstrumentOut
from jts.brokers.creon.schemas import QuoteOut
from jts.domain.errors import BrokerUnavailable
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_MINUTE

log = logging.getLogger("jts.brokers.creon")

_INSTRUMENTS = TypeAdapter(list[InstrumentOut])


class CreonMarketData:
    """The MarketDataClient port at Creon."""

    venue = VENUE

    def __init__(
        self,
        bridge: BridgeClient,
        *,
        watch: Sequence[str] = (),
        quote_interval: float = 1.0,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bridge = bridge
        self.watch = tuple(watch)
        self.polls = 0  # completed rounds of the stream
        self._quote_interval = quote_interval
        self._clock = clock
        self._sleep = sleep
        self._open = False

    async def connect(self) -> None:
        if not self._open:
            await self.bridge.open()
            self._open = True

    async def disconnect(self) -> None:
        if self._open:
            self._open = False
            await self.bridge.close()

    async def instruments(self) -> list[Instrument]:
        listed = await self.bridge.get_list(_INSTRUMENTS, "/instruments")
        return [i for i in map(instrument_of, listed) if i is not None]

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        quote = await self.bridge.get(QuoteOut, f"/quotes/{creon_code(instrument_id)}")
        return quote.price if quote.price > 0 else None

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        page = await self.bridge.get(
            BarsOut,
            f"/bars/{creon_code(instrument_id)}",
            params={"timeframe": timeframe.value, "start": start_ns, "end": end_ns},
        )
        return [bar_of(instrument_id, timeframe, b) for b in page.bars]

    async def stream(self) -> AsyncIterator[MarketDataBatch]:
        """Trades of the ``watch`` list from polled quotes, and its closed minute bars.

        Creon's real-time StockCur needs a COM subscription per code, which the
        bridge does not relay, so this polls: each quote look-up's volume growth is
        a tick, and at every minute boundary the minute chart gives the closed bars
        (one look-up per symbol per minute: Creon's 60 per 15 s cover 240 symbols).
        Bars come from the venue's chart, never from sampled quotes.
        """
        volumes: dict[str, int] = {}
        emitted: dict[str, int] = {}
        while self._open and self.bridge.is_open:
            now = self._clock()
            minute = now - now % NANOS_PER_MINUTE
            bars: list[Bar] = []
            for instrument_id in self.watch:
                since = emitted.get(instrument_id, minute - NANOS_PER_MINUTE)
                if since >= minute:
                    continue
                try:
                    closed = await self.historical_bars(instrument_id, since, minute, Timeframe.M1)
                except BrokerUnavailable as exc:
                    log.warning("creon: minute bars of %s failed: %s", instrument_id, exc)
                    continue
                bars.extend(closed)
                emitted[instrument_id] = minute
            ticks: list[Tick] = []
            for instrument_id in self.watch:
                try:
                    quote = await self.bridge.get(QuoteOut, f"/quotes/{creon_code(instrument_id)}")
                except BrokerUnavailable as exc:
                    log.warning("creon: quote for %s failed: %s", instrument_id, exc)
                    continue
                before = volumes.get(instrument_id)
                volumes[instrument_id] = quote.volume
                if before is not None and quote.volume > before and quote.price > 0:
                    ticks.append(
                        Tick(instrument_id, quote.ts, quote.price, Decimal(quote.volume - before))
                    )
            self.polls += 1
            if ticks or bars:
                yield MarketDataBatch(ts=self._clock(), bars=tuple(bars), ticks=tuple(ticks))
            await self._sleep(self._quote_interval)
