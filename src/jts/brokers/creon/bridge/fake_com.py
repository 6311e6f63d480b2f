"""A fake of the Creon COM objects, shaped like the real ones, for running the bridge off Windows.

It keeps what the bridge depends on: input, header and data value indices as
documented in the Cybos help, ``BlockRequest`` status codes (4 when the order
counter is spent), rejections through ``GetDibStatus() == -1`` and
``GetDibMsg1()``, ``Continue`` paging, Creon's request counters (60 look-ups
and 20 order/account requests per 15 s) with ``GetLimitRemainCount`` and
``LimitRequestRemainTime``, and ``CpConclusion`` events that arrive only when
the COM thread pumps messages. Prices come from a seeded table; moving a price
with ``FakeCreonMarket.set_price`` fills crossing limit orders.

Where the real objects block (a look-up past its limit waits inside Creon) the
fake does not: it counts the breach in ``violations`` so tests can prove the
bridge never causes one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

from jts.brokers.creon.bridge import com
from jts.domain.ticks import TickRule

KST = timezone(timedelta(hours=9), "KST")
SESSION_MINUTES = 390  # 09:00-15:30
_TICKS = TickRule.krx_stock()

DEFAULT_LISTINGS: dict[str, tuple[str, int, int]] = {
    # code: (name, market kind 1 KOSPI / 2 KOSDAQ, reference price)
    "A005930": ("삼성전자", 1, 70_000),
    "A000660": ("SK하이닉스", 1, 180_000),
    "A035720": ("카카오", 1, 45_000),
    "A247540": ("에코프로비엠", 2, 250_000),
}


def _kst_today() -> date:
    return datetime.now(KST).date()


def _as_int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def _as_char(value: Any) -> str:
    """Creon char inputs are passed as ``ord('1')`` from Python; accept a string too."""
    if isinstance(value, int):
        return chr(value)
    return str(value)


@dataclass
class FakeOrder:
    order_no: int
    code: str
    side: str  # "1" sell, "2" buy
    quantity: int
    price: int  # 0 for market
    hoga: str
    condition: str
    filled: int = 0
    fill_value: int = 0
    cancelled: int = 0
    moved: int = 0  # modified away to a new order number (CpTd0313)
    orig_order_no: int = 0  # the order this one cancels, or replaced by a modify
    is_cancel: bool = False  # a cancel order's own row in the 5341 list

    @property
    def open_quantity(self) -> int:
        if self.is_cancel:
            return 0
        return self.quantity - self.filled - self.cancelled - self.moved

    @property
    def is_modify(self) -> bool:
        return bool(self.orig_order_no) and not self.is_cancel

    @property
    def avg_price(self) -> int:
        return self.fill_value // self.filled if self.filled else 0


@dataclass
class _Listing:
    code: str
    name: str
    market: int
    prev_close: int
    price: int
    open: int
    high: int
    low: int
    volume: int
    days: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    # (yyyymmdd, open, high, low, close, volume), oldest first, today last
    minutes: list[tuple[int, int, int, int, int, int, int]] = field(default_factory=list)
    # (yyyymmdd, hhmm end label, open, high, low, close, volume), oldest first


class FakeCreonMarket:
    """The Creon world behind the fake objects: prices, one account, orders, counters."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 7,
        today: date | None = None,
        listings: dict[str, tuple[str, int, int]] | None = None,
        account: str = "333012345",
        account_name: str = "홍길동",
        product: str = "01",
        cash: int = 100_000_000,
        positions: dict[str, int] | None = None,
        history_days: int = 300,
        minute_days: int = 3,
        trade_limit: int = 20,
        quote_limit: int = 60,
        window: float = 15.0,
        page_size: int = 500,
    ) -> None:
        self.clock = clock
        self.today = today or _kst_today()
        self.account = account
        self.account_name = account_name
        self.product = product
        self.cash = cash
        self.positions: dict[str, int] = dict(positions or {"A005930": 50})
        self.book_prices: dict[str, int] = {}
        self.connected = True
        self.server_type = 1
        self.trade_ready = False
        self.limits = {com.LT_TRADE_REQUEST: trade_limit, com.LT_NONTRADE_REQUEST: quote_limit}
        self.window = window
        self.page_size = page_size
        self.violations = 0
        self.requests = {com.LT_TRADE_REQUEST: 0, com.LT_NONTRADE_REQUEST: 0}
        self.submissions = 0
        self._windows: dict[int, list[float]] = {}  # kind -> [start, used]
        self._subscribers: list[FakeConclusion] = []
        self._events: list[dict[int, Any]] = []
        self._orders: dict[int, FakeOrder] = {}
        self._next_order_no = 1001
        self._drop_order_responses = 0
        self._lock = threading.RLock()
        rng = random.Random(seed)
        self.listings: dict[str, _Listing] = {}
        for code, (name, market, reference) in (listings or DEFAULT_LISTINGS).items():
            self.listings[code] = self._seed(rng, code, name, market, reference, history_days)
            self._seed_minutes(rng, self.listings[code], minute_days)
        for code in self.positions:
            self.book_prices[code] = self.listings[code].prev_close

    # -- seeded price table ---------------------------------------------------------------

    def _seed(
        self, rng: random.Random, code: str, name: str, market: int, reference: int, days: int
    ) -> _Listing:
        sessions: list[date] = []
        day = self.today
        while len(sessions) < days:
            if day.weekday() < 5:
                sessions.append(day)
            day -= timedelta(days=1)
        sessions.reverse()
        # Walk backwards from the reference so today's price is exactly the reference.
        closes = [Decimal(reference)]
        for _ in sessions[1:]:
            closes.append(_TICKS.round_nearest(closes[-1] * Decimal(1 + rng.uniform(-0.02, 0.02))))
        closes.reverse()
        rows: list[tuple[int, int, int, int, int, int]] = []
        previous = closes[0]
        for session, close in zip(sessions, closes, strict=True):
            open_ = _TICKS.round_nearest(previous * Decimal(1 + rng.uniform(-0.01, 0.01)))
            high = _TICKS.round_up(max(open_, close) * Decimal(1 + rng.uniform(0, 0.01)))
            low = _TICKS.round_down(min(open_, close) * Decimal(1 - rng.uniform(0, 0.01)))
            volume = rng.randint(100_000, 2_000_000)
            ymd = int(session.strftime("%Y%m%d"))
            rows.append((ymd, int(open_), int(high), int(low), int(close), volume))
            previous = close
        today = rows[-1]
        prev_close = rows[-2][4] if len(rows) > 1 else today[1]
        return _Listing(
            code, name, market, prev_close, today[4], today[1], today[2], today[3], today[5], rows
        )

    def _seed_minutes(self, rng: random.Random, listing: _Listing, days: int) -> None:
        for ymd, open_, high, low, close, volume in listing.days[-days:]:
            price = Decimal(open_)
            per_minute = max(1, volume // SESSION_MINUTES)
            for k in range(1, SESSION_MINUTES + 1):
                end = datetime(2000, 1, 1, 9, 0, tzinfo=KST) + timedelta(minutes=k)
                target = Decimal(close) if k == SESSION_MINUTES else price
                step = target * Decimal(1 + rng.uniform(-0.002, 0.002))
                nxt = min(Decimal(high), max(Decimal(low), _TICKS.round_nearest(step)))
                o, c = int(price), int(nxt if k < SESSION_MINUTES else Decimal(close))
                listing.minutes.append(
                    (ymd, end.hour * 100 + end.minute, o, max(o, c), min(o, c), c, per_minute)
                )
                price = Decimal(c)

    # -- test hooks -----------------------------------------------------------------------

    def factory(self) -> FakeComFactory:
        return FakeComFactory(self)

    def set_connected(self, connected: bool) -> None:
        with self._lock:
            self.connected = connected
            self.server_type = 1 if connected else 0

    def set_price(self, code: str, price: Decimal | int, volume: int | None = None) -> None:
        """Trade at ``price``: resting limit orders it crosses fill at their own price.

        ``volume`` caps the quantity that trades (partial fills); None fills everything.
        """
        px = int(price)
        with self._lock:
            listing = self.listings[code]
            listing.price = px
            listing.high = max(listing.high, px)
            listing.low = min(listing.low, px)
            listing.volume += volume or 1
            left = volume
            for order in sorted(self._orders.values(), key=lambda o: o.order_no):
                if order.code != code or order.open_quantity <= 0 or order.hoga != "01":
                    continue
                crosses = px <= order.price if order.side == "2" else px >= order.price
                if not crosses:
                    continue
                qty = order.open_quantity if left is None else min(left, order.open_quantity)
                if qty <= 0:
                    break
                self._fill(order, qty, order.price)
                if left is not None:
                    left -= qty

    def trade(self, code: str, price: int, quantity: int) -> None:
        """A trade of exactly ``quantity`` at ``price``: crossing orders fill up to it.

        Time priority (order numbers ascending); what the trade does not reach keeps working.
        """
        if quantity <= 0:
            raise ValueError(f"a trade needs a positive quantity, not {quantity}")
        self.set_price(code, price, quantity)

    def modify_by_hand(self, order_no: int, price: int) -> int:
        """A price modify made in the HTS: same events as CpTd0313; returns the new number."""
        with self._lock:
            order = self._orders.get(order_no)
            code = order.code if order else ""
            modified, problem = self.modify(self._hand_inputs(order_no, code, price))
        if modified is None:
            raise ValueError(problem)
        return modified.order_no

    def cancel_by_hand(self, order_no: int) -> int:
        """A cancel made in the HTS: same events as CpTd0314; returns the cancel order number."""
        with self._lock:
            order = self._orders.get(order_no)
            code = order.code if order else ""
            cancel, problem = self.cancel(self._hand_inputs(order_no, code, 0))
        if cancel is None:
            raise ValueError(problem)
        return cancel.order_no

    def _hand_inputs(self, order_no: int, code: str, price: int) -> dict[int, Any]:
        return {1: order_no, 2: self.account, 3: self.product, 4: code, 5: 0, 6: price}

    def drop_next_order_response(self) -> None:
        """The next POST /orders is processed and then its connection is cut (see middleware)."""
        with self._lock:
            self._drop_order_responses += 1

    def take_drop_order_response(self) -> bool:
        with self._lock:
            if self._drop_order_responses <= 0:
                return False
            self._drop_order_responses -= 1
            return True

    def orders(self) -> list[FakeOrder]:
        """Real orders placed (cancel orders excluded), oldest first."""
        with self._lock:
            return [o for o in self._orders.values() if not o.is_cancel]

    def order(self, order_no: int) -> FakeOrder | None:
        with self._lock:
            return self._orders.get(order_no)

    # -- counters -------------------------------------------------------------------------

    def remain(self, kind: int) -> int:
        with self._lock:
            if kind == com.LT_SUBSCRIBE:
                return 400 - len(self._subscribers)
            _start, used = self._window(kind)
            return max(0, self.limits[kind] - int(used))

    def remain_time_ms(self) -> int:
        with self._lock:
            now = self.clock()
            remaining = [
                start + self.window - now
                for start, used in (self._window(k) for k in self.limits)
                if used > 0
            ]
            return max(0, int(min(remaining) * 1000)) if remaining else 0

    def _window(self, kind: int) -> tuple[float, float]:
        now = self.clock()
        state = self._windows.setdefault(kind, [now, 0.0])
        if now - state[0] >= self.window:
            state[0], state[1] = now, 0.0
        return state[0], state[1]

    def spend(self, kind: int) -> bool:
        """Count one request; False when the counter is spent (a limit breach)."""
        with self._lock:
            self.requests[kind] += 1
            _start, used = self._window(kind)
            if used >= self.limits[kind]:
                self.violations += 1
                return False
            state = self._windows[kind]
            if used == 0:
                state[0] = self.clock()
            state[1] = used + 1
            return True

    # -- trading --------------------------------------------------------------------------

    def _reserved_cash(self) -> int:
        return sum(
            o.open_quantity * (o.price or self._upper_limit(o.code))
            for o in self._orders.values()
            if o.side == "2"
        )

    def _reserved_qty(self, code: str) -> int:
        return sum(
            o.open_quantity for o in self._orders.values() if o.side == "1" and o.code == code
        )

    def _upper_limit(self, code: str) -> int:
        return int(_TICKS.round_down(Decimal(self.listings[code].prev_close) * Decimal("1.3")))

    def _lower_limit(self, code: str) -> int:
        return int(_TICKS.round_up(Decimal(self.listings[code].prev_close) * Decimal("0.7")))

    def place(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0311 request: the new order, or None and Creon's rejection message."""
        side = str(inputs.get(0, ""))
        code = str(inputs.get(3, ""))
        qty = _as_int(inputs.get(4))
        price = _as_int(inputs.get(5))
        hoga = str(inputs.get(8, "01"))
        condition = str(inputs.get(7, "0"))
        with self._lock:
            problem = self._order_problem(inputs, side, code, qty, price, hoga)
            if problem:
                return None, problem
            order = FakeOrder(self._next_order_no, code, side, qty, price, hoga, condition)
            self._next_order_no += 1
            self._orders[order.order_no] = order
            self.submissions += 1
            self._event(order, "4", order.quantity, order.price)
            listing = self.listings[code]
            marketable = price >= listing.price if side == "2" else price <= listing.price
            if hoga == "03" or marketable:
                self._fill(order, qty, listing.price)
            if condition in ("1", "2") and order.open_quantity > 0:
                self._cancel_rest(order)
            return order, ""

    def _order_problem(
        self, inputs: dict[int, Any], side: str, code: str, qty: int, price: int, hoga: str
    ) -> str:
        """Creon's message for the first thing wrong with the order, or ""."""
        checks = (
            (not self.trade_ready, "[CpTd0311] 주문 초기화(TradeInit)가 되지 않았습니다"),
            (side not in ("1", "2"), "[40001] 매매구분 오류"),
            (
                inputs.get(1) != self.account or inputs.get(2) != self.product,
                "[40002] 계좌번호 또는 상품관리구분코드 오류",
            ),
            (code not in self.listings, f"[40003] 종목코드 오류 ({code})"),
            (qty <= 0, "[40004] 주문수량 오류"),
        )
        for failed, message in checks:
            if failed:
                return message
        problem = self._price_problem(code, price, hoga)
        if problem:
            return problem
        if side == "2":
            cost = qty * (price or self._upper_limit(code))
            if cost > self.cash - self._reserved_cash():
                return "[40020] 매수가능금액이 부족합니다"
        elif qty > self.positions.get(code, 0) - self._reserved_qty(code):
            return "[40021] 매도가능수량이 부족합니다"
        return ""

    def _price_problem(self, code: str, price: int, hoga: str) -> str:
        if hoga == "03":
            return "" if price == 0 else "[40005] 시장가 주문은 가격을 입력하지 않습니다"
        if hoga != "01":
            return f"[40006] 지원하지 않는 호가구분 ({hoga})"
        if price <= 0 or not _TICKS.is_on_grid(Decimal(price)):
            return f"[40010] 주문가격이 호가단위에 맞지 않습니다 ({price})"
        if not self._lower_limit(code) <= price <= self._upper_limit(code):
            return f"[40011] 주문가격이 가격제한폭을 벗어났습니다 ({price})"
        return ""

    def cancel(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0314 request: the cancel order, or None and Creon's message.

        Input 5 is the quantity to cancel, 0 for all that remains open.
        """
        with self._lock:
            order, problem = self._amendable(inputs, "CpTd0314")
            if order is None:
                return None, problem
            qty = _as_int(inputs.get(5))
            if qty > order.open_quantity:
                return None, f"[40032] 취소수량이 취소가능수량({order.open_quantity})을 초과합니다"
            return self._cancel_rest(order, qty or order.open_quantity), ""

    def modify(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0313 price modify: the order under its new number, or None and a message.

        Input 5 is the quantity to modify (0 = all that remains open), input 6 the new
        price. The modified quantity moves to a new order number that names the old
        one as its original; fills already made stay under the old number.
        """
        with self._lock:
            order, problem = self._amendable(inputs, "CpTd0313")
            if order is None:
                return None, problem
            qty = _as_int(inputs.get(5)) or order.open_quantity
            if qty > order.open_quantity:
                return None, f"[40033] 정정수량이 정정가능수량({order.open_quantity})을 초과합니다"
            price = _as_int(inputs.get(6))
            problem = self._price_problem(order.code, price, "01")
            if problem:
                return None, problem
            order.moved += qty
            new = FakeOrder(
                self._next_order_no, order.code, order.side, qty, price, "01", order.condition
            )
            new.orig_order_no = order.order_no
            self._next_order_no += 1
            self._orders[new.order_no] = new
            self._event(new, "2", qty, price, modify_kind="2")
            listing = self.listings[order.code]
            if price >= listing.price if order.side == "2" else price <= listing.price:
                self._fill(new, qty, listing.price)
            return new, ""

    def _amendable(self, inputs: dict[int, Any], what: str) -> tuple[FakeOrder | None, str]:
        """The open order a modify or cancel names, or None and Creon's message."""
        orig = _as_int(inputs.get(1))
        if not self.trade_ready:
            return None, f"[{what}] 주문 초기화(TradeInit)가 되지 않았습니다"
        if inputs.get(2) != self.account or inputs.get(3) != self.product:
            return None, "[40002] 계좌번호 또는 상품관리구분코드 오류"
        order = self._orders.get(orig)
        if order is None or order.is_cancel or order.code != str(inputs.get(4, "")):
            return None, f"[40030] 원주문번호 오류 ({orig})"
        if order.open_quantity <= 0:
            return None, "[40031] 취소가능수량이 없습니다" if what == "CpTd0314" else (
                "[40031] 정정가능수량이 없습니다"
            )
        return order, ""

    def _cancel_rest(self, order: FakeOrder, qty: int | None = None) -> FakeOrder:
        qty = min(qty or order.open_quantity, order.open_quantity)
        order.cancelled += qty
        cancel = FakeOrder(
            self._next_order_no, order.code, order.side, qty, 0, order.hoga, order.condition
        )
        cancel.orig_order_no = order.order_no
        cancel.is_cancel = True
        self._next_order_no += 1
        self._orders[cancel.order_no] = cancel
        self._event(cancel, "2", qty, 0, modify_kind="3")
        return cancel

    def _fill(self, order: FakeOrder, qty: int, price: int) -> None:
        order.filled += qty
        order.fill_value += qty * price
        code = order.code
        if order.side == "2":
            held = self.positions.get(code, 0)
            book = self.book_prices.get(code, 0)
            self.book_prices[code] = (held * book + qty * price) // (held + qty)
            self.positions[code] = held + qty
            self.cash -= qty * price
        else:
            self.positions[code] = self.positions.get(code, 0) - qty
            self.cash += qty * price
        self._event(order, "1", qty, price)

    def _event(
        self, order: FakeOrder, kind: str, qty: int, price: int, modify_kind: str = "1"
    ) -> None:
        listing = self.listings[order.code]
        held = self.positions.get(order.code, 0)
        self._events.append(
            {
                1: self.account_name,
                2: listing.name,
                3: qty,
                4: price,
                5: order.order_no,
                6: order.orig_order_no,
                7: self.account,
                8: self.product,
                9: order.code,
                12: order.side,
                14: kind,
                16: modify_kind,
                17: "1",
                18: order.hoga,
                19: order.condition,
                21: self.book_prices.get(order.code, 0),
                22: held - self._reserved_qty(order.code),
                23: held,
            }
        )

    def deliver_events(self) -> None:
        """What a message pump does: hand queued CpConclusion events to subscribers."""
        with self._lock:
            events, self._events = self._events, []
            subscribers = list(self._subscribers)
        for headers in events:
            for subscriber in subscribers:
                subscriber.receive(headers)

    # -- views for the fake objects -------------------------------------------------------

    def subscribe(self, obj: FakeConclusion) -> None:
        with self._lock:
            if obj not in self._subscribers:
                self._subscribers.append(obj)

    def unsubscribe(self, obj: FakeConclusion) -> None:
        with self._lock:
            if obj in self._subscribers:
                self._subscribers.remove(obj)

    def all_orders(self) -> list[FakeOrder]:
        with self._lock:
            return sorted(self._orders.values(), key=lambda o: o.order_no)


# -- the objects ---------------------------------------------------------------------------


class FakeDib:
    """Common shape of Creon request objects: inputs, headers, rows, status, paging."""

    kind = com.LT_NONTRADE_REQUEST
    count_header: int | None = None  # the header that holds a page's row count

    def __init__(self, market: FakeCreonMarket) -> None:
        self.market = market
        self.inputs: dict[int, Any] = {}
        self.headers: dict[int, Any] = {}
        self.rows: list[dict[int, Any]] = []
        self.status = 0
        self.message = ""
        self.Continue = 0
        self._pending: list[dict[int, Any]] = []
        self._page_size = market.page_size
        self._callback: Callable[[], None] | None = None

    def SetInputValue(self, index: int, value: Any) -> None:
        self.inputs[index] = value
        self._pending = []
        self.Continue = 0

    def BlockRequest(self) -> int:
        if not self.market.connected:
            return com.RQ_COMM_FAILURE
        if not self.market.spend(self.kind) and self.kind == com.LT_TRADE_REQUEST:
            return com.RQ_LIMIT_EXCEEDED
        self.status, self.message = 0, "정상 처리되었습니다"
        if self.Continue and self._pending:
            # The next page: same headers, the page's own row count.
            self._serve(self._pending, self._page_size)
            if self.count_header is not None:
                self.headers[self.count_header] = len(self.rows)
        else:
            self.headers, self.rows = {}, []
            self.request()
        return com.RQ_OK

    def request(self) -> None:
        raise NotImplementedError

    def _fail(self, message: str) -> None:
        self.status, self.message = -1, message

    def _serve(self, rows: list[dict[int, Any]], page: int | None = None) -> None:
        size = self._page_size = page or self.market.page_size
        self.rows, self._pending = rows[:size], rows[size:]
        self.Continue = 1 if self._pending else 0

    def GetHeaderValue(self, index: int) -> Any:
        return self.headers.get(index, 0)

    def GetDataValue(self, index: int, row: int) -> Any:
        return self.rows[row].get(index, 0)

    def GetDibStatus(self) -> int:
        return self.status

    def GetDibMsg1(self) -> str:
        return self.message

    def Subscribe(self) -> None:
        raise TypeError(f"{type(self).__name__} is a request object")

    def Unsubscribe(self) -> None:
        raise TypeError(f"{type(self).__name__} is a request object")


class FakeCybos:
    def __init__(self, market: FakeCreonMarket) -> None:
        self.market = market

    @property
    def IsConnect(self) -> int:
        return 1 if self.market.connected else 0

    @property
    def ServerType(self) -> int:
        return self.market.server_type

    @property
    def LimitRequestRemainTime(self) -> int:
        return self.market.remain_time_ms()

    def GetLimitRemainCount(self, kind: int) -> int:
        return self.market.remain(kind)


class FakeCodeMgr:
    def __init__(self, market: FakeCreonMarket) -> None:
        self.market = market

    def CodeToName(self, code: str) -> str:
        listing = self.market.listings.get(code)
        return listing.name if listing else ""

    def GetStockMarketKind(self, code: str) -> int:
        listing = self.market.listings.get(code)
        return listing.market if listing else 0

    def GetStockListByMarket(self, kind: int) -> tuple[str, ...]:
        return tuple(c for c, listing in self.market.listings.items() if listing.market == kind)


class FakeStockCode(FakeCodeMgr):
    def NameToCode(self, name: str) -> str:
        for code, listing in self.market.listings.items():
            if listing.name == name:
                return code
        return ""

    def GetCount(self) -> int:
        return len(self.market.listings)


class FakeTdUtil:
    def __init__(self, market: FakeCreonMarket) -> None:
        self.market = market

    def TradeInit(self, flag: int = 0) -> int:
        self.market.trade_ready = True
        return 0

    @property
    def AccountNumber(self) -> tuple[str, ...]:
        return (self.market.account,)

    def GoodsList(self, account: str, kind: int) -> tuple[str, ...]:
        if account != self.market.account:
            return ()
        return (self.market.product,) if kind in (-1, 1) else ()


class FakeStockMst(FakeDib):
    def request(self) -> None:
        listing = self.market.listings.get(str(self.inputs.get(0, "")))
        if listing is None:
            self._fail(f"[StockMst] 종목코드 오류 ({self.inputs.get(0)})")
            return
        now = datetime.now(KST)
        with self.market._lock:
            self.headers = {
                0: listing.code,
                1: listing.name,
                4: now.hour * 100 + now.minute,
                8: self.market._upper_limit(listing.code),
                9: self.market._lower_limit(listing.code),
                10: listing.prev_close,
                11: listing.price,
                12: listing.price - listing.prev_close,
                13: listing.open,
                14: listing.high,
                15: listing.low,
                16: int(_TICKS.shift(Decimal(listing.price), 1)),
                17: listing.price,
                18: listing.volume,
                43: 1,
            }


class FakeStockChart(FakeDib):
    """StockChart: data index = position of the field in the ascending sorted field list."""

    count_header = 3

    def request(self) -> None:
        code = str(self.inputs.get(0, ""))
        listing = self.market.listings.get(code)
        if listing is None:
            self._fail(f"[StockChart] 종목코드 오류 ({code})")
            return
        raw_fields = self.inputs.get(5, (0, 5))
        fields = sorted(
            {int(f) for f in raw_fields} if isinstance(raw_fields, Iterable) else {int(raw_fields)}
        )
        chart = _as_char(self.inputs.get(6, ord("D")))
        period = _as_int(self.inputs.get(7)) or 1
        if chart == "D":
            table = [
                {0: d, 1: 0, 2: o, 3: h, 4: lo, 5: c, 8: v} for d, o, h, lo, c, v in listing.days
            ]
            table[-1].update({2: listing.open, 3: listing.high, 4: listing.low, 5: listing.price})
        elif chart == "m":
            table = _minute_rows(listing.minutes, period)
        else:
            self._fail(f"[StockChart] 지원하지 않는 차트구분 ({chart})")
            return
        by_period = _as_char(self.inputs.get(1, ord("2"))) == "1"
        if by_period:
            end = _as_int(self.inputs.get(2)) or 99_999_999
            start = _as_int(self.inputs.get(3))
            table = [r for r in table if start <= r[0] <= end]
        else:
            count = _as_int(self.inputs.get(4)) or 1
            table = table[-count:]
        newest_first = [{pos: row.get(f, 0) for pos, f in enumerate(fields)} for row in table[::-1]]
        self._serve(newest_first)
        self._set_headers(listing, fields)

    def _set_headers(self, listing: _Listing, fields: Sequence[int]) -> None:
        self.headers = {
            0: listing.code,
            1: len(fields),
            2: tuple(str(f) for f in fields),
            3: len(self.rows),
            6: listing.prev_close,
            7: listing.price,
        }


def _minute_rows(
    minutes: Sequence[tuple[int, int, int, int, int, int, int]], period: int
) -> list[dict[int, Any]]:
    """1-minute rows folded into ``period``-minute bars, each labelled with its end minute."""
    rows: list[dict[int, Any]] = []
    for k, (ymd, hhmm, o, h, lo, c, v) in enumerate(minutes):
        index = k % SESSION_MINUTES  # 0-based minute of the session
        if index % period == 0 or not rows:
            rows.append({0: ymd, 1: hhmm, 2: o, 3: h, 4: lo, 5: c, 8: v})
            continue
        bar = rows[-1]
        bar.update({1: hhmm, 3: max(bar[3], h), 4: min(bar[4], lo), 5: c, 8: bar[8] + v})
    return rows


class FakeOrderObject(FakeDib):
    """CpTd0311: new cash order. Header 8 is the order number."""

    kind = com.LT_TRADE_REQUEST

    def request(self) -> None:
        order, problem = self.market.place(self.inputs)
        if order is None:
            self._fail(problem)
            return
        self.message = "[0000] 주문이 접수되었습니다"
        self.headers = {
            0: order.side,
            1: self.market.account,
            2: self.market.product,
            3: order.code,
            4: order.quantity,
            5: order.price,
            8: order.order_no,
            9: self.market.account_name,
            10: self.market.listings[order.code].name,
            12: order.condition,
            13: order.hoga,
        }


class FakeModifyObject(FakeDib):
    """CpTd0313: price modify. Header 7 is the new order number."""

    kind = com.LT_TRADE_REQUEST

    def request(self) -> None:
        new, problem = self.market.modify(self.inputs)
        if new is None:
            self._fail(problem)
            return
        self.message = "[0000] 정정주문이 접수되었습니다"
        self.headers = {
            1: new.orig_order_no,
            2: self.market.account,
            3: self.market.product,
            4: new.code,
            5: new.quantity,
            6: new.price,
            7: new.order_no,
        }


class FakeCancelObject(FakeDib):
    """CpTd0314: cancel. Header 6 is the cancel order's own number."""

    kind = com.LT_TRADE_REQUEST

    def request(self) -> None:
        cancel, problem = self.market.cancel(self.inputs)
        if cancel is None:
            self._fail(problem)
            return
        self.headers = {
            1: cancel.orig_order_no,
            2: self.market.account,
            3: self.market.product,
            4: cancel.code,
            5: cancel.quantity,
            6: cancel.order_no,
            7: self.market.account_name,
            8: self.market.listings[cancel.code].name,
        }


class _AccountDib(FakeDib):
    kind = com.LT_TRADE_REQUEST

    def _account_ok(self) -> bool:
        if self.inputs.get(0) != self.market.account or self.inputs.get(1) != self.market.product:
            self._fail("[40002] 계좌번호 또는 상품관리구분코드 오류")
            return False
        return True


class FakeUnfilled(_AccountDib):
    """CpTd5339: open orders, at most 20 rows a request, ``Continue`` for more."""

    count_header = 5

    def request(self) -> None:
        if not self._account_ok():
            return
        code = str(self.inputs.get(3, "") or "")
        rows = [
            {
                0: self.market.product,
                1: o.order_no,
                2: o.orig_order_no,
                3: o.code,
                4: self.market.listings[o.code].name,
                5: "현금매수" if o.side == "2" else "현금매도",
                6: o.quantity,
                7: o.price,
                8: o.filled,
                10: self.market.account,
                11: o.open_quantity,
                13: o.side,
                21: o.hoga,
            }
            for o in self.market.all_orders()
            if o.open_quantity > 0 and (not code or o.code == code)
        ]
        if _as_char(self.inputs.get(5, "0")) == "1":
            rows.reverse()
        self._serve(rows, min(20, _as_int(self.inputs.get(7)) or 20))
        self.headers = {0: self.market.account, 1: self.market.product, 5: len(self.rows)}


class FakeTodayOrders(_AccountDib):
    """CpTd5341: today's orders and fills, one row per order (cancel orders have their own row)."""

    count_header = 6

    def request(self) -> None:
        if not self._account_ok():
            return
        code = str(self.inputs.get(2, "") or "")
        start = _as_int(self.inputs.get(3))
        rows = [
            _today_row(self.market, o)
            for o in self.market.all_orders()
            if (not code or o.code == code) and o.order_no >= start
        ]
        if _as_char(self.inputs.get(4, "1")) == "1":
            rows.reverse()
        self._serve(rows, min(20, _as_int(self.inputs.get(5)) or 7))
        self.headers = {0: self.market.account, 1: self.market.product, 6: len(self.rows)}


def _today_row(market: FakeCreonMarket, o: FakeOrder) -> dict[int, Any]:
    buy = o.side == "2"
    return {
        0: market.product,
        1: o.order_no,
        2: o.orig_order_no,
        3: o.code,
        4: market.listings[o.code].name,
        5: "현금매수" if buy else "현금매도",
        6: "시장가" if o.hoga == "03" else "보통",
        7: o.quantity,
        8: o.price,
        9: o.filled,
        10: o.filled,
        11: o.avg_price,
        12: o.quantity if o.is_cancel else 0,
        13: "취소주문" if o.is_cancel else "정정주문" if o.is_modify else "정상주문",
        14: "",
        22: o.open_quantity,
        24: "매수" if buy else "매도",
        34: o.hoga,
        35: o.side,
        36: "3" if o.is_cancel else "2" if o.is_modify else "1",
    }


class FakeBalance(_AccountDib):
    """CpTd6033: holdings (header 9 is the D+2 expected deposit)."""

    count_header = 7

    def request(self) -> None:
        if not self._account_ok():
            return
        market = self.market
        with market._lock:
            held = [(c, q) for c, q in market.positions.items() if q > 0]
            rows = [
                {
                    0: market.listings[c].name,
                    3: q,
                    7: q,
                    9: q * market.listings[c].price,
                    12: c,
                    15: q - market._reserved_qty(c),
                    17: float(market.book_prices.get(c, 0)),
                }
                for c, q in held
            ]
            cash = market.cash
        self._serve(rows, min(50, _as_int(self.inputs.get(2)) or 14))
        self.headers = {0: market.account_name, 7: len(self.rows), 9: cash}


class FakeConclusion(FakeDib):
    """DsCbo1.CpConclusion: no inputs; ``Received`` per order event while subscribed."""

    def BlockRequest(self) -> int:
        raise TypeError("CpConclusion is a subscription object")

    def Subscribe(self) -> None:
        self.market.subscribe(self)

    def Unsubscribe(self) -> None:
        self.market.unsubscribe(self)

    def receive(self, headers: dict[int, Any]) -> None:
        self.headers = headers
        if self._callback is not None:
            self._callback()


_OBJECTS: dict[str, Callable[[FakeCreonMarket], Any]] = {
    com.CYBOS: FakeCybos,
    com.CODE_MGR: FakeCodeMgr,
    com.STOCK_CODE: FakeStockCode,
    com.TD_UTIL: FakeTdUtil,
    com.STOCK_MST: FakeStockMst,
    com.STOCK_CHART: FakeStockChart,
    com.ORDER: FakeOrderObject,
    com.MODIFY: FakeModifyObject,
    com.CANCEL: FakeCancelObject,
    com.UNFILLED: FakeUnfilled,
    com.TODAY_ORDERS: FakeTodayOrders,
    com.BALANCE: FakeBalance,
    com.CONCLUSION: FakeConclusion,
}


class FakeComFactory:
    """``ComFactory`` over a ``FakeCreonMarket``; ProgIDs are case-insensitive, as in COM."""

    def __init__(self, market: FakeCreonMarket) -> None:
        self.market = market
        self.thread: threading.Thread | None = None

    def initialize_thread(self) -> None:
        self.thread = threading.current_thread()

    def dispatch(self, progid: str) -> Any:
        for name, make in _OBJECTS.items():
            if name.lower() == progid.lower():
                return make(self.market)
        raise OSError(f"Invalid class string: {progid}")

    def subscribe(self, obj: Any, on_received: Callable[[], None]) -> Any:
        obj._callback = on_received
        return obj

    def pump(self) -> None:
        self.market.deliver_events()


ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def drop_order_responses(app: ASGIApp, market: FakeCreonMarket) -> ASGIApp:
    """ASGI wrapper: when armed, let ``POST /orders`` run, then cut the connection unanswered.

    The bridge places the order; the client sees a dropped connection, as it
    would if the link failed between Creon's answer and the HTTP response.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/orders"
            and market.take_drop_order_response()
        ):
            await app(scope, receive, send)
            return

        async def swallow(message: dict[str, Any]) -> None:
            return None

        await app(scope, receive, swallow)
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-length", b"1000")],
            }
        )
        # An exception after the response started makes the server close the socket.
        raise ConnectionAbortedError("fake: connection dropped after the order was placed")

    return wrapped
