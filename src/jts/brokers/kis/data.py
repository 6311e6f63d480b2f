"""``MarketDataClient`` for KIS: quotes, candles for backfill, streamed trades for live bars.

Candles are paged backwards (KIS returns newest first, 30 minute rows per call
for today, 120 for past days, 100 daily rows) and every call spends the
account's shared budget. Live data streams trades for as many symbols as the
session may register; the rest are polled for their price within the budget.
KIS minute rows are stamped with the minute's start (``stck_cntg_hour``); a
session's bars run from 09:00 to the 15:30 closing-auction row, which carries the
auction's volume and is asked for and kept like any other minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import Any

from jts.brokers.kis.environments import Paths
from jts.brokers.kis.http import KisRest
from jts.brokers.kis.parsing import code_of
from jts.brokers.kis.parsing import dec
from jts.brokers.kis.parsing import kst_day
from jts.brokers.kis.parsing import kst_ns
from jts.brokers.kis.parsing import kst_time
from jts.brokers.kis.websocket import KisRealtime
from jts.brokers.kis.websocket import OrderBook
from jts.brokers.kis.websocket import TradePrint
from jts.core.minute_bars import MinuteBarBuilder
from jts.domain.errors import DataError
from jts.domain.errors import InvalidOrder
from jts.domain.instruments import Instrument
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_MINUTE

log = logging.getLogger("jts.brokers.kis")

_SESSION_OPEN = "090000"
_SESSION_LAST = "153000"


def _minute_bar(instrument_id: str, row: dict[str, Any]) -> Bar:
    stamped = kst_ns(str(row["stck_bsop_date"]), str(row["stck_cntg_hour"]))
    return Bar(
        instrument_id,
        Timeframe.M1,
        # A row stamped with seconds (152959, 153002) is the bar of its minute: stored
        # off the minute, gap detection would never see that minute as filled.
        stamped - stamped % NANOS_PER_MINUTE,
        dec(row.get("stck_oprc"), "stck_oprc"),
        dec(row.get("stck_hgpr"), "stck_hgpr"),
        dec(row.get("stck_lwpr"), "stck_lwpr"),
        dec(row.get("stck_prpr"), "stck_prpr"),
        dec(row.get("cntg_vol"), "cntg_vol"),
    )


def _daily_bar(instrument_id: str, row: dict[str, Any]) -> Bar:
    return Bar(
        instrument_id,
        Timeframe.D1,
        kst_ns(str(row["stck_bsop_date"]), "000000"),
        dec(row.get("stck_oprc"), "stck_oprc"),
        dec(row.get("stck_hgpr"), "stck_hgpr"),
        dec(row.get("stck_lwpr"), "stck_lwpr"),
        dec(row.get("stck_clpr"), "stck_clpr"),
        dec(row.get("acml_vol"), "acml_vol"),
    )


class KisMarketData:
    def __init__(
        self,
        rest: KisRest,
        symbols: list[str],
        *,
        realtime: KisRealtime | None = None,
        poll_interval: float = 60.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = "kis"
        self.rest = rest
        self.symbols = list(symbols)
        self._realtime = realtime
        self._poll_interval = poll_interval
        self._clock = clock
        self._queue: asyncio.Queue[MarketDataBatch] = asyncio.Queue(maxsize=10_000)
        self.streamed: list[str] = []
        self.polled: list[str] = []
        self._streaming = False
        self.order_books: dict[str, OrderBook] = {}
        self.skipped_rows = 0

    async def connect(self) -> None:
        await self.rest.connect()
        if self._realtime is not None:
            self._realtime.on_trade(self._on_trade)
            self._realtime.on_book(self._on_book)

    def watch_order_book(self, instrument_id: str) -> bool:
        """Stream the 10-level book too (one more registration of the session's 40)."""
        if self._realtime is None:
            return False
        return self._realtime.subscribe(self.rest.endpoints.tr.order_book, code_of(instrument_id))

    async def _on_book(self, book: OrderBook) -> None:
        self.order_books[book.instrument_id] = book

    async def disconnect(self) -> None:
        if self._realtime is not None:
            await self._realtime.stop()
        await self.rest.close()

    async def instruments(self) -> list[Instrument]:
        return [krx_stock(code_of(s), code_of(s)) for s in self.symbols]

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code_of(instrument_id)}
        response = await self.rest.get(Paths.PRICE, self.rest.endpoints.tr.price, params)
        output = response.body.get("output") or {}
        price = dec(output.get("stck_prpr"), "stck_prpr")
        return price if price > 0 else None

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        if timeframe is Timeframe.D1:
            bars = await self._daily(instrument_id, start_ns, end_ns)
        elif timeframe is Timeframe.M1:
            bars = await self._minutes(instrument_id, start_ns, end_ns)
        else:
            raise InvalidOrder(f"KIS gives 1m and 1d candles; aggregate {timeframe} from 1m")
        return sorted((b for b in bars if start_ns <= b.ts < end_ns), key=lambda b: b.ts)

    def _rows_to_bars(
        self, instrument_id: str, rows: list[dict[str, Any]], daily: bool
    ) -> list[Bar]:
        bars = []
        for row in rows:
            try:
                bars.append(
                    _daily_bar(instrument_id, row) if daily else _minute_bar(instrument_id, row)
                )
            except (DataError, KeyError) as exc:
                self.skipped_rows += 1
                log.warning("KIS candle row for %s skipped: %s", instrument_id, exc)
        return bars

    async def _daily(self, instrument_id: str, start_ns: int, end_ns: int) -> list[Bar]:
        first, last = kst_day(start_ns), kst_day(end_ns - 1)
        bars: dict[int, Bar] = {}
        while last >= first:
            params = {
                "FID_COND_MRKT_DIV_CODE": "J",
                "FID_INPUT_ISCD": code_of(instrument_id),
                "FID_INPUT_DATE_1": first.strftime("%Y%m%d"),
                "FID_INPUT_DATE_2": last.strftime("%Y%m%d"),
                "FID_PERIOD_DIV_CODE": "D",
                "FID_ORG_ADJ_PRC": "0",
            }
            response = await self.rest.get(
                Paths.DAILY_CHART, self.rest.endpoints.tr.daily_chart, params
            )
            page = self._rows_to_bars(instrument_id, _rows(response.body), daily=True)
            if not page:
                break
            bars.update((b.ts, b) for b in page)
            oldest = min(kst_day(b.ts) for b in page)
            if oldest <= first or len(page) < 100:
                break
            last = oldest - timedelta(days=1)
        return list(bars.values())

    async def _minutes(self, instrument_id: str, start_ns: int, end_ns: int) -> list[Bar]:
        today = kst_day(self._clock())
        day = kst_day(start_ns)
        bars: dict[int, Bar] = {}
        while day <= kst_day(end_ns - 1):
            if day <= today:
                for bar in await self._minutes_of(instrument_id, day, today, start_ns, end_ns):
                    bars[bar.ts] = bar
            day += timedelta(days=1)
        return list(bars.values())

    async def _minutes_of(
        self, instrument_id: str, day: date, today: date, start_ns: int, end_ns: int | None = None
    ) -> list[Bar]:
        tr = self.rest.endpoints.tr
        path, tr_id, page_size = (
            (Paths.MINUTE_CHART_TODAY, tr.minute_chart_today, 30)
            if day == today
            else (Paths.MINUTE_CHART_PAST, tr.minute_chart_past, 120)
        )
        day_text = day.strftime("%Y%m%d")
        last = kst_ns(day_text, _SESSION_LAST)  # the closing auction's row is the last
        if end_ns is not None and end_ns - NANOS_PER_MINUTE < last:
            # Start paging at the end of the wanted range, not at the close.
            last = max(end_ns - NANOS_PER_MINUTE, kst_ns(day_text, _SESSION_OPEN))
        cursor = _cursor(last)
        floor = max(start_ns, kst_ns(day_text, _SESSION_OPEN))
        collected: list[Bar] = []
        while True:
            params = {
                "FID_COND_MRKT_DIV_CODE": "J",
                "FID_INPUT_ISCD": code_of(instrument_id),
                "FID_INPUT_HOUR_1": cursor,
                "FID_PW_DATA_INCU_YN": "Y",
                "FID_ETC_CLS_CODE": "",
            }
            if day != today:
                params["FID_INPUT_DATE_1"] = day_text
                params["FID_FAKE_TICK_INCU_YN"] = ""
            response = await self.rest.get(path, tr_id, params)
            page = [
                b
                for b in self._rows_to_bars(instrument_id, _rows(response.body), daily=False)
                if kst_day(b.ts) == day
            ]
            if not page:
                break
            collected.extend(page)
            oldest = min(b.ts for b in page)
            if oldest <= floor or len(page) < page_size:
                break
            cursor = _cursor(oldest - NANOS_PER_MINUTE)
        return collected

    # -- live ----------------------------------------------------------------------------

    async def _on_trade(self, trade: TradePrint) -> None:
        try:
            tick = Tick(trade.instrument_id, trade.ts, trade.price, trade.volume)
        except DataError as exc:
            log.warning("KIS trade print dropped: %s", exc)
            return
        await self._queue.put(MarketDataBatch(self._clock(), ticks=(tick,)))

    def retarget(self, symbols: list[str]) -> None:
        """Cover ``symbols`` from now on (the pool moved some here or away)."""
        removed = [s for s in self.symbols if s not in symbols]
        self.symbols = list(symbols)
        if self._streaming:
            self._arrange(removed)

    def _arrange(self, removed: list[str]) -> None:
        trades = self.rest.endpoints.tr.trades
        if self._realtime is not None:
            for symbol in removed:
                self._realtime.unsubscribe(trades, code_of(symbol))
        streamed: list[str] = []
        polled: list[str] = []
        for symbol in self.symbols:
            ok = self._realtime is not None and self._realtime.subscribe(trades, code_of(symbol))
            (streamed if ok else polled).append(symbol)
        self.streamed, self.polled = streamed, polled

    async def stream(self) -> AsyncIterator[MarketDataBatch]:
        """Ticks as they print and one-minute bars as minutes close."""
        self._streaming = True
        self._arrange([])
        if self._realtime is not None:
            await self._realtime.start()
        poller = asyncio.create_task(self._poll_bars())
        builder = MinuteBarBuilder()
        try:
            while True:
                timeout = _seconds_to_next_minute(self._clock())
                try:
                    batch = await asyncio.wait_for(self._queue.get(), timeout=timeout)
                except TimeoutError:
                    closed = builder.close_before(self._clock())
                    if closed:
                        yield MarketDataBatch(self._clock(), bars=tuple(closed))
                    continue
                bars = [b for t in batch.ticks if (b := builder.add(t)) is not None]
                yield MarketDataBatch(batch.ts, bars=tuple(bars) + batch.bars, ticks=batch.ticks)
        finally:
            self._streaming = False
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    async def _poll_bars(self) -> None:
        """Symbols the socket could not take: each minute, their closed minute bars.

        One candle call per symbol per minute (600 symbols = 10 calls/s) within the
        shared budget; the page of 30 rows also fills any minute a slow poll missed.
        """
        emitted: dict[str, int] = {}
        while True:
            now = self._clock()
            current_minute = now - now % NANOS_PER_MINUTE
            for symbol in self.polled:
                since = emitted.get(symbol, current_minute - 30 * NANOS_PER_MINUTE)
                try:
                    bars = await self._minutes_of(symbol, kst_day(now), kst_day(now), since)
                except Exception as exc:  # the poller must outlive one bad answer
                    log.warning("KIS candle poll of %s failed: %s", symbol, exc)
                    continue
                fresh = sorted(
                    (b for b in bars if since <= b.ts < current_minute), key=lambda b: b.ts
                )
                if fresh:
                    emitted[symbol] = fresh[-1].ts + NANOS_PER_MINUTE
                    await self._queue.put(MarketDataBatch(self._clock(), bars=tuple(fresh)))
            await asyncio.sleep(_seconds_to_next_minute(self._clock()))


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = body.get("output2") or []
    return [r for r in rows if isinstance(r, dict) and r.get("stck_bsop_date")]


def _cursor(minute_ns: int) -> str:
    """FID_INPUT_HOUR_1 asking for rows up to the end of the minute of ``minute_ns``.

    The minute's last second, so a row stamped with seconds (101612) is on the page
    that asks for its minute, whether KIS reads the time as inclusive or not.
    """
    return kst_time(minute_ns).strftime("%H%M") + "59"


def _seconds_to_next_minute(now_ns: int) -> float:
    return (NANOS_PER_MINUTE - now_ns % NANOS_PER_MINUTE) / 1e9 + 0.05
