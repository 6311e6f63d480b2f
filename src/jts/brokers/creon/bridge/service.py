"""The bridge's work: Creon COM requests turned into the schemas the REST API serves.

Every COM call runs on the ``ComWorker`` thread; every request that Creon
counts goes through the ``LimitGate`` first. ``CpConclusion`` events are read
on the COM thread, handed to the event loop and numbered in an ``EventJournal``
that clients long-poll from their last number.

Creon's order lists carry no times (CpTd5341 and CpConclusion have no time
field), yet an adapter that lost a submit answer must match orders by time. So
the bridge notes when it placed each order (and when it first saw any other),
and can keep those notes and today's fills in a small JSON-lines file so they
survive a bridge restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge import errors
from jts.brokers.creon.bridge.com import ComFactory
from jts.brokers.creon.bridge.com import ComWorker
from jts.brokers.creon.bridge.errors import BridgeError
from jts.brokers.creon.bridge.limits import LimitGate
from jts.brokers.creon.bridge.limits import WaitBudget
from jts.brokers.creon.schemas import BalanceOut
from jts.brokers.creon.schemas import BarOut
from jts.brokers.creon.schemas import CancelOut
from jts.brokers.creon.schemas import EventKind
from jts.brokers.creon.schemas import EventOut
from jts.brokers.creon.schemas import FillOut
from jts.brokers.creon.schemas import HealthOut
from jts.brokers.creon.schemas import InstrumentOut
from jts.brokers.creon.schemas import ModifyIn
from jts.brokers.creon.schemas import ModifyKind
from jts.brokers.creon.schemas import ModifyOut
from jts.brokers.creon.schemas import OrderAck
from jts.brokers.creon.schemas import OrderIn
from jts.brokers.creon.schemas import OrderOut
from jts.brokers.creon.schemas import PositionOut
from jts.brokers.creon.schemas import QuoteOut
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.ticks import TickRule
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ns_to_dt

log = logging.getLogger("jts.brokers.creon.bridge")

KST = timezone(timedelta(hours=9), "KST")  # no DST; no tz database needed on Windows
MAX_PAGES = 400
PAGE_WAIT = 60.0  # the longest a paged look-up waits for Creon's counter, over all its pages
MAX_PAGE = 5_000
_SIDE_CODE = {Side.SELL: "1", Side.BUY: "2"}
_CODE_SIDE = {"1": Side.SELL, "2": Side.BUY}
_CONDITION = {"NONE": "0", "IOC": "1", "FOK": "2"}
_EVENT_KIND: dict[str, EventKind] = {"1": "fill", "2": "confirm", "3": "reject", "4": "accepted"}
_MODIFY_KIND: dict[str, ModifyKind] = {"1": "normal", "2": "modify", "3": "cancel"}
_CHARTS = {
    "1m": ("m", 1),
    "5m": ("m", 5),
    "15m": ("m", 15),
    "30m": ("m", 30),
    "1h": ("m", 60),
    "1d": ("D", 1),
}
_BAR_FIELDS = (0, 1, 2, 3, 4, 5, 8)  # date, time, open, high, low, close, volume (sorted)


def kst_day(ns: int) -> date:
    return ns_to_dt(ns).astimezone(KST).date()


def _ymd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _bar_open_ns(ymd: int, hhmm: int, chart: str, period: int) -> int:
    day = datetime(ymd // 10_000, ymd // 100 % 100, ymd % 100, tzinfo=KST)
    if chart == "D":
        return dt_to_ns(day)
    # Creon labels a minute bar with the minute it ends (the first bar of the day is 0901).
    end = day + timedelta(hours=hhmm // 100, minutes=hhmm % 100)
    return dt_to_ns(end) - period * NANOS_PER_MINUTE


def _limit_price(price: Decimal | None) -> int:
    """A limit price as Creon takes it: positive whole won on the KRX ladder, else 422."""
    if price is None or price <= 0 or price != price.to_integral_value():
        raise BridgeError(422, errors.INVALID, "a limit order needs a positive whole-won price")
    # The bridge trades today only: the ladder every board has shared since 2023-01-25.
    off_ladder = TickRule.krx_stock().problem(price, "KRW")
    if off_ladder is not None:
        raise BridgeError(422, errors.INVALID, off_ladder)
    return int(price)


def _optional_quantity(obj: Any, header: int) -> int | None:
    """An optional quantity header: None when Creon leaves it out (or reading it fails).

    COM thread. A request Creon accepted must not fail for an optional field.
    """
    try:
        value = obj.GetHeaderValue(header)
        quantity = int(value) if value not in (None, "") else 0
    except Exception:  # a COM error on an optional field: the answer stands without it
        return None
    return quantity if quantity > 0 else None


def _orig(value: Any) -> str | None:
    """원주문번호 of a look-up row: set (non-zero) on an order that replaced another."""
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return None
    return str(number) if number > 0 else None


@dataclass(frozen=True, slots=True)
class Placed:
    order_no: str
    code: str
    side: str
    quantity: int
    price: str | None
    placed_ns: int


class EventJournal:
    """CpConclusion events numbered from 1; long-poll waiters are woken on append."""

    def __init__(self) -> None:
        self._events: list[EventOut] = []
        self._grown = asyncio.Event()

    @property
    def head(self) -> int:
        return len(self._events)

    def append(self, event: EventOut) -> None:
        self._events.append(event)
        self._grown.set()
        self._grown = asyncio.Event()

    async def after(self, seq: int, wait: float) -> list[EventOut]:
        if seq >= self.head and wait > 0:
            try:
                await asyncio.wait_for(self._grown.wait(), wait)
            except TimeoutError:
                return []
        return self._events[max(0, seq) : max(0, seq) + MAX_PAGE]


class BridgeState:
    """Today's placed orders and fills, in memory and optionally in a JSON-lines file."""

    def __init__(self, path: Path | None, today: date) -> None:
        self.path = path
        self.placed: dict[str, Placed] = {}
        self.first_seen: dict[str, int] = {}
        self.fills: list[FillOut] = []
        self.filled: dict[str, int] = {}
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path, today)

    def _load(self, path: Path, today: date) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
                if item.get("day") != today.isoformat():
                    continue
                if item["t"] == "order":
                    placed = Placed(**item["order"])
                    self.placed[placed.order_no] = placed
                elif item["t"] == "fill":
                    self._remember_fill(FillOut.model_validate(item["fill"]))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("bridge state %s: skipping a damaged line: %s", path, exc)

    def _write(self, item: dict[str, Any]) -> None:
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(item, separators=(",", ":"), ensure_ascii=False) + "\n")

    def place(self, placed: Placed) -> None:
        with self._lock:
            self.placed[placed.order_no] = placed
            day = kst_day(placed.placed_ns).isoformat()
            self._write({"t": "order", "day": day, "order": asdict(placed)})

    def seen(self, order_no: str, ts: int) -> int:
        with self._lock:
            placed = self.placed.get(order_no)
            return placed.placed_ns if placed else self.first_seen.setdefault(order_no, ts)

    def add_fill(self, fill: FillOut) -> None:
        with self._lock:
            self._remember_fill(fill)
            self._write(
                {
                    "t": "fill",
                    "day": kst_day(fill.ts).isoformat(),
                    "fill": fill.model_dump(mode="json"),
                }
            )

    def _remember_fill(self, fill: FillOut) -> None:
        self.fills.append(fill)
        self.filled[fill.order_no] = max(self.filled.get(fill.order_no, 0), fill.cumulative)


class CreonBridge:
    """Creon's objects, paced and serialised, as typed operations."""

    def __init__(
        self,
        factory: ComFactory,
        *,
        account: str | None = None,
        state_path: Path | None = None,
        max_wait: float = 3.0,
        page_wait: float = PAGE_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.factory = factory
        self.worker = ComWorker(factory)
        self.gate = LimitGate(
            self.worker, lambda: self._obj(com.CYBOS), max_wait=max_wait, sleep=sleep
        )
        self.page_wait = page_wait
        self.journal = EventJournal()
        self._clock_ns = clock_ns
        self.state = BridgeState(state_path, kst_day(clock_ns()))
        self.account = account
        self.product: str | None = None
        self.trade_ready = False
        self.trade_error: str | None = None
        self._objects: dict[str, Any] = {}
        self._conclusion: Any = None
        self._handle: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.worker.start()
        await self.worker.run(self._init_trading)

    async def stop(self) -> None:
        if self._conclusion is not None:
            await self.worker.run(self._conclusion.Unsubscribe)
            self._conclusion = None
        await asyncio.to_thread(self.worker.stop)

    def _obj(self, progid: str) -> Any:
        """A shared instance of ``progid``; COM thread only."""
        obj = self._objects.get(progid)
        if obj is None:
            obj = self._objects[progid] = self.factory.dispatch(progid)
        return obj

    def _init_trading(self) -> None:
        util = self._obj(com.TD_UTIL)
        status = int(util.TradeInit(0))
        if status != 0:
            reasons = {
                -1: "error",
                1: "wrong business key",
                2: "wrong account password",
                3: "cancelled",
            }
            self.trade_error = f"TradeInit returned {status} ({reasons.get(status, 'unknown')})"
            log.error("Creon: %s; orders are refused, market data still served", self.trade_error)
            return
        accounts = tuple(str(a) for a in util.AccountNumber)
        if self.account is None:
            self.account = accounts[0] if accounts else None
        if self.account not in accounts:
            self.trade_error = f"account {self.account} is not signed on (have {accounts})"
            return
        goods = tuple(util.GoodsList(self.account, 1))
        if not goods:
            self.trade_error = f"account {self.account} has no stock product code"
            return
        self.product = str(goods[0])
        self._conclusion = self.factory.dispatch(com.CONCLUSION)
        self._handle = self.factory.subscribe(self._conclusion, self._on_received)
        self._conclusion.Subscribe()
        self.trade_ready = True

    # -- fills (COM thread -> loop) -------------------------------------------------------

    def _on_received(self) -> None:
        obj = self._conclusion
        headers = {i: obj.GetHeaderValue(i) for i in (3, 4, 5, 6, 9, 12, 14, 16)}
        ts = self._clock_ns()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._on_conclusion, headers, ts)

    def _on_conclusion(self, h: dict[int, Any], ts: int) -> None:
        kind = _EVENT_KIND.get(str(h[14]).strip())
        side = _CODE_SIDE.get(str(h[12]).strip())
        if kind is None or side is None:
            log.warning("Creon: CpConclusion event not understood: %s", h)
            return
        order_no, quantity, price = str(int(h[5])), int(h[3]), Decimal(int(h[4]))
        orig = int(h[6] or 0)
        code = str(h[9])
        self.state.seen(order_no, ts)
        fill_id = None
        if kind == "fill":
            cumulative = self.state.filled.get(order_no, 0) + quantity
            fill_id = f"{kst_day(ts).isoformat()}:{order_no}:{cumulative}"
            self.state.add_fill(
                FillOut(
                    fill_id=fill_id,
                    order_no=order_no,
                    code=code,
                    side=side,
                    quantity=quantity,
                    price=price,
                    cumulative=cumulative,
                    ts=ts,
                )
            )
        placed = self.state.placed.get(order_no)
        self.journal.append(
            EventOut(
                seq=self.journal.head + 1,
                ts=ts,
                kind=kind,
                modify=_MODIFY_KIND.get(str(h[16]).strip(), "normal"),
                order_no=order_no,
                orig_order_no=str(orig) if orig else None,
                code=code,
                side=side,
                quantity=quantity,
                price=price,
                filled_quantity=self.state.filled.get(order_no, 0),
                order_quantity=placed.quantity if placed else None,
                fill_id=fill_id,
            )
        )

    # -- checks ---------------------------------------------------------------------------

    def _check(self, obj: Any, status: int, what: str) -> None:
        """Turn a BlockRequest outcome into a BridgeError; COM thread."""
        if status == com.RQ_LIMIT_EXCEEDED:
            wait = self._obj(com.CYBOS).LimitRequestRemainTime / 1000
            raise BridgeError(
                429, errors.RATE_LIMITED, f"{what}: Creon request limit", retry_after=wait
            )
        if status == com.RQ_CONFIRM_CANCELLED:
            raise BridgeError(
                409,
                errors.CONFIRM_CANCELLED,
                f"{what}: cancelled in Creon's confirmation dialog",
                sent=True,
            )
        if status != com.RQ_OK:
            raise BridgeError(
                502, errors.COMM_FAILURE, f"{what}: BlockRequest returned {status}", sent=True
            )
        if obj.GetDibStatus() != 0:
            raise BridgeError(
                400, errors.REJECTED, str(obj.GetDibMsg1()).strip() or f"{what} failed", sent=True
            )

    def _require_trading(self) -> tuple[str, str]:
        if not self.trade_ready or self.account is None or self.product is None:
            raise BridgeError(
                503, errors.TRADE_NOT_READY, self.trade_error or "trading not initialised"
            )
        return self.account, self.product

    async def _known_code(self, code: str) -> str:
        name = await self.worker.run(lambda: str(self._obj(com.CODE_MGR).CodeToName(code)))
        if not name:
            raise BridgeError(404, errors.UNKNOWN_CODE, f"no instrument {code}")
        return name

    # -- look-ups -------------------------------------------------------------------------

    async def health(self) -> HealthOut:
        def read() -> HealthOut:
            cybos = self._obj(com.CYBOS)
            return HealthOut(
                connected=bool(cybos.IsConnect),
                server_type=int(cybos.ServerType),
                trade_ready=self.trade_ready,
                trade_error=self.trade_error,
                account=self.account,
                remain_orders=int(cybos.GetLimitRemainCount(com.LT_TRADE_REQUEST)),
                remain_lookups=int(cybos.GetLimitRemainCount(com.LT_NONTRADE_REQUEST)),
                events=self.journal.head,
            )

        return await self.worker.run(read)

    async def instruments(self) -> list[InstrumentOut]:
        def read() -> list[InstrumentOut]:
            mgr = self._obj(com.CODE_MGR)
            return [
                InstrumentOut(code=str(code), name=str(mgr.CodeToName(code)), market=kind)
                for kind in (1, 2)
                for code in mgr.GetStockListByMarket(kind)
            ]

        return await self.worker.run(read)

    async def quote(self, code: str) -> QuoteOut:
        await self._known_code(code)

        def request() -> QuoteOut:
            obj = self._obj(com.STOCK_MST)
            obj.SetInputValue(0, code)
            self._check(obj, self.worker.block_request(obj), f"StockMst {code}")
            h = obj.GetHeaderValue

            def px(i: int) -> Decimal:
                return Decimal(int(h(i) or 0))

            return QuoteOut(
                code=code,
                name=str(h(1)),
                price=px(11),
                open=px(13),
                high=px(14),
                low=px(15),
                ask=px(16),
                bid=px(17),
                prev_close=px(10),
                upper_limit=px(8),
                lower_limit=px(9),
                volume=int(h(18) or 0),
                ts=self._clock_ns(),
            )

        return await self.gate.call(com.LT_NONTRADE_REQUEST, request)

    async def bars(self, code: str, timeframe: str, start_ns: int, end_ns: int) -> list[BarOut]:
        if timeframe not in _CHARTS:
            raise BridgeError(
                422, errors.INVALID, f"timeframe {timeframe!r} not one of {sorted(_CHARTS)}"
            )
        if end_ns <= start_ns:
            return []
        await self._known_code(code)
        chart, period = _CHARTS[timeframe]
        first_day, last_day = kst_day(start_ns), kst_day(end_ns - 1)
        chart_obj: list[Any] = []

        def first_page() -> list[tuple[Any, ...]]:
            obj = self.factory.dispatch(com.STOCK_CHART)  # own object: pages must not interleave
            chart_obj.append(obj)
            for index, value in (
                (0, code),
                (1, ord("1")),
                (2, _ymd(last_day)),
                (3, _ymd(first_day)),
                (5, _BAR_FIELDS),
                (6, ord(chart)),
                (7, period),
                (9, ord("1")),
            ):
                obj.SetInputValue(index, value)
            return read_page(obj)

        def next_page() -> list[tuple[Any, ...]]:
            return read_page(chart_obj[0])

        def read_page(obj: Any) -> list[tuple[Any, ...]]:
            self._check(obj, self.worker.block_request(obj), f"StockChart {code}")
            rows = int(obj.GetHeaderValue(3))
            return [
                tuple(obj.GetDataValue(i, r) for i in range(len(_BAR_FIELDS))) for r in range(rows)
            ]

        budget = WaitBudget(self.page_wait)
        rows = await self.gate.call(com.LT_NONTRADE_REQUEST, first_page, budget)
        pages = 1
        while await self.worker.run(lambda: int(chart_obj[0].Continue)) and pages < MAX_PAGES:
            if rows and int(rows[-1][0]) < _ymd(first_day):
                break  # newest first: everything further back is before the range
            rows.extend(await self.gate.call(com.LT_NONTRADE_REQUEST, next_page, budget))
            pages += 1
        bars: dict[int, BarOut] = {}
        for ymd, hhmm, o, h, lo, c, v in rows:
            ts = _bar_open_ns(int(ymd), int(hhmm), chart, period)
            if start_ns <= ts < end_ns:
                bars[ts] = BarOut(
                    ts=ts,
                    open=Decimal(int(o)),
                    high=Decimal(int(h)),
                    low=Decimal(int(lo)),
                    close=Decimal(int(c)),
                    volume=Decimal(int(v)),
                )
        return [bars[ts] for ts in sorted(bars)]

    # -- orders ---------------------------------------------------------------------------

    async def place(self, order: OrderIn) -> OrderAck:
        account, product = self._require_trading()
        if order.order_type is OrderType.LIMIT:
            price, hoga = _limit_price(order.price), "01"
        else:
            if order.price is not None:
                raise BridgeError(422, errors.INVALID, "a market order carries no price")
            price, hoga = 0, "03"

        def request() -> OrderAck:
            obj = self._obj(com.ORDER)
            for index, value in (
                (0, _SIDE_CODE[order.side]),
                (1, account),
                (2, product),
                (3, order.code),
                (4, order.quantity),
                (5, price),
                (7, _CONDITION[order.condition]),
                (8, hoga),
            ):
                obj.SetInputValue(index, value)
            status = self.worker.block_request(obj)
            placed_ns = self._clock_ns()
            self._check(obj, status, f"order {order.side} {order.quantity} {order.code}")
            order_no = str(int(obj.GetHeaderValue(8)))
            self.state.place(
                Placed(
                    order_no,
                    order.code,
                    order.side.value,
                    order.quantity,
                    str(price) if price else None,
                    placed_ns,
                )
            )
            return OrderAck(
                order_no=order_no,
                code=order.code,
                side=order.side,
                quantity=order.quantity,
                price=Decimal(price) if price else None,
                placed_ns=placed_ns,
                message=str(obj.GetDibMsg1()).strip(),
            )

        return await self.gate.call(com.LT_TRADE_REQUEST, request)

    async def modify(self, order_no: str, change: ModifyIn) -> ModifyOut:
        """CpTd0313: a new price for ``change.quantity`` (0 = all) of what remains open.

        Creon moves the modified quantity to a new order number (header 7); what
        was filled stays under the old one. The new number's confirm and fills
        reach the journal as CpConclusion events carrying the old number too.
        """
        account, product = self._require_trading()
        if not order_no.isdigit():
            raise BridgeError(404, errors.UNKNOWN_ORDER, f"no open order {order_no}")
        price = _limit_price(change.price)

        def request() -> ModifyOut:
            obj = self._obj(com.MODIFY)
            for index, value in (
                (1, int(order_no)),
                (2, account),
                (3, product),
                (4, change.code),
                (5, change.quantity),
                (6, price),
            ):
                obj.SetInputValue(index, value)
            self._check(obj, self.worker.block_request(obj), f"modify {order_no}")
            new_no = int(obj.GetHeaderValue(7) or 0)
            if new_no <= 0:
                raise BridgeError(
                    502,
                    errors.COMM_FAILURE,
                    f"modify {order_no}: Creon accepted it but gave no new order number",
                    sent=True,
                )
            self.state.seen(str(new_no), self._clock_ns())
            return ModifyOut(
                order_no=str(new_no),
                original_order_no=order_no,
                code=change.code,
                price=Decimal(price),
                quantity=_optional_quantity(obj, 5),
            )

        return await self.gate.call(com.LT_TRADE_REQUEST, request)

    async def cancel(self, order_no: str, code: str | None, quantity: int = 0) -> CancelOut:
        """CpTd0314: cancel ``quantity`` (0 = all) of what remains open.

        A 200 means Creon accepted the cancel request; the confirm event says it
        is done. Only the cancel order's number (header 6) is required of the
        answer: a missing canceled quantity (header 5) does not fail a cancel
        Creon accepted.
        """
        account, product = self._require_trading()
        placed = self.state.placed.get(order_no)
        code = code or (placed.code if placed else None)
        if code is None:
            for row in await self.open_orders():
                if row.order_no == order_no:
                    code = row.code
        if code is None or not order_no.isdigit():
            raise BridgeError(404, errors.UNKNOWN_ORDER, f"no open order {order_no}")

        def request() -> CancelOut:
            obj = self._obj(com.CANCEL)
            for index, value in (
                (1, int(order_no)),
                (2, account),
                (3, product),
                (4, code),
                (5, quantity),
            ):
                obj.SetInputValue(index, value)
            self._check(obj, self.worker.block_request(obj), f"cancel {order_no}")
            cancel_no = int(obj.GetHeaderValue(6) or 0)
            if cancel_no <= 0:
                raise BridgeError(
                    502,
                    errors.COMM_FAILURE,
                    f"cancel {order_no}: Creon accepted it but gave no cancel order number",
                    sent=True,
                )
            return CancelOut(
                order_no=order_no,
                cancel_order_no=str(cancel_no),
                quantity=_optional_quantity(obj, 5),
            )

        return await self.gate.call(com.LT_TRADE_REQUEST, request)

    async def _pages(
        self,
        progid: str,
        inputs: tuple[tuple[int, Any], ...],
        fields: tuple[int, ...],
        count_header: int,
        header_fields: tuple[int, ...] = (),
        budget: WaitBudget | None = None,
    ) -> tuple[list[dict[int, Any]], dict[int, Any]]:
        """Every row of an account request, page by page (each page is one counted request).

        The pages share one waiting budget: a look-up longer than a counter window
        waits for the next window and completes.
        """
        holder: list[Any] = []

        def page(first: bool) -> tuple[list[dict[int, Any]], dict[int, Any]]:
            if first:
                obj = self.factory.dispatch(progid)
                holder.append(obj)
                for index, value in inputs:
                    obj.SetInputValue(index, value)
            obj = holder[0]
            self._check(obj, self.worker.block_request(obj), progid)
            count = int(obj.GetHeaderValue(count_header))
            rows = [{f: obj.GetDataValue(f, r) for f in fields} for r in range(count)]
            headers = {i: obj.GetHeaderValue(i) for i in header_fields}
            return rows, headers

        budget = budget or WaitBudget(self.page_wait)
        rows, headers = await self.gate.call(com.LT_TRADE_REQUEST, lambda: page(True), budget)
        for _ in range(MAX_PAGES):
            if not await self.worker.run(lambda: int(holder[0].Continue)):
                break
            more, _headers = await self.gate.call(com.LT_TRADE_REQUEST, lambda: page(False), budget)
            rows.extend(more)
        return rows, headers

    async def today_orders(self) -> list[OrderOut]:
        """CpTd5341: today's orders with their fills; cancel orders fold into their originals."""
        account, product = self._require_trading()
        inputs = (
            (0, account),
            (1, product),
            (2, ""),
            (3, 0),
            (4, ord("0")),
            (5, 20),
            (6, ord("2")),
        )
        fields = (1, 2, 3, 7, 8, 9, 11, 12, 14, 22, 34, 35, 36)  # 2: 원주문번호
        rows, _headers = await self._pages(com.TODAY_ORDERS, inputs, fields, 6)
        now = self._clock_ns()
        cancelled = {
            str(int(r[2])) for r in rows if str(r[36]).strip() == "3" and int(r[12] or 0) > 0
        }
        out = []
        for r in rows:
            if str(r[36]).strip() == "3":
                continue
            order_no = str(int(r[1]))
            qty, filled, open_qty = int(r[7]), int(r[9] or 0), int(r[22] or 0)
            reason = str(r[14] or "").strip() or None
            if reason:
                status = OrderStatus.REJECTED
            elif filled >= qty:
                status = OrderStatus.FILLED
            elif order_no in cancelled or open_qty == 0:
                status = OrderStatus.CANCELED
            else:
                status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
            out.append(
                OrderOut(
                    order_no=order_no,
                    code=str(r[3]),
                    side=_CODE_SIDE[str(r[35]).strip()],
                    quantity=qty,
                    price=None if str(r[34]).strip() == "03" else Decimal(int(r[8])),
                    filled_quantity=filled,
                    avg_fill_price=Decimal(int(r[11])) if filled else None,
                    open_quantity=open_qty,
                    status=status,
                    ts=self.state.seen(order_no, now),
                    reject_reason=reason,
                    orig_order_no=_orig(r[2]),
                )
            )
        return out

    async def open_orders(self, budget: WaitBudget | None = None) -> list[OrderOut]:
        """CpTd5339: orders with quantity still open."""
        account, product = self._require_trading()
        inputs = ((0, account), (1, product), (3, ""), (4, "0"), (5, "0"), (6, "0"), (7, 20))
        fields = (1, 2, 3, 6, 7, 8, 11, 13, 21)  # 2: 원주문번호
        rows, _headers = await self._pages(com.UNFILLED, inputs, fields, 5, budget=budget)
        now = self._clock_ns()
        return [
            OrderOut(
                order_no=str(int(r[1])),
                code=str(r[3]),
                side=_CODE_SIDE[str(r[13]).strip()],
                quantity=int(r[6]),
                price=None if str(r[21]).strip() == "03" else Decimal(int(r[7])),
                filled_quantity=int(r[8] or 0),
                avg_fill_price=None,
                open_quantity=int(r[11]),
                status=OrderStatus.PARTIALLY_FILLED if int(r[8] or 0) else OrderStatus.ACCEPTED,
                ts=self.state.seen(str(int(r[1])), now),
                orig_order_no=_orig(r[2]),
            )
            for r in rows
        ]

    async def balance(self) -> BalanceOut:
        account, product = self._require_trading()
        inputs = ((0, account), (1, product), (2, 50))
        budget = WaitBudget(self.page_wait)  # one answer: the two look-ups share the wait
        fields = (0, 7, 12, 15, 17)
        rows, headers = await self._pages(com.BALANCE, inputs, fields, 7, (0, 9), budget)
        reserved = sum(
            (o.price or Decimal(0)) * o.open_quantity
            for o in await self.open_orders(budget)
            if o.side is Side.BUY
        )
        return BalanceOut(
            account=account,
            cash=Decimal(int(headers.get(9) or 0)),
            reserved_cash=Decimal(reserved),
            positions=[
                PositionOut(
                    code=str(r[12]),
                    name=str(r[0]),
                    quantity=int(r[7]),
                    sellable=int(r[15]),
                    avg_price=Decimal(str(r[17])),
                )
                for r in rows
                if int(r[7])
            ],
        )

    def fills(self, since_ns: int) -> list[FillOut]:
        return [f for f in self.state.fills if f.ts >= since_ns]
