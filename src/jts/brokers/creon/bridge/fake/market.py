"""The Creon world behind the fake COM objects: one account, its orders, the order events.

Matching and the ledger are the shared ``jts.sim`` ones (the paper venue and
the backtester use the same engine), so the fake cannot drift into rules of its
own. What is Creon's is kept here: order numbers, and what each number shows in
the look-ups (CpTd5339/5341 rows) and in ``CpConclusion`` events.

- A Creon order number maps to an engine order (its client order id). A new
  order (CpTd0311) is ``engine.submit``; a marketable one trades at once
  against the last price, up to its own quantity.
- A price modify of all that remains (CpTd0313) is ``engine.modify(price)``:
  the engine order lives on under a new Creon number. A modify of part of it
  lowers the old engine order's quantity and submits the part as a new engine
  order. Either way the modified quantity shows under the new number, which
  names the old one as its original; fills already made stay under the old.
- A cancel (CpTd0314) of all that remains is ``engine.cancel``; of part of it,
  ``engine.modify(quantity)``. Creon gives the cancel its own number and row.
- A trade (``set_price``, ``trade``) is ``engine.on_tick``: crossing orders
  fill in time priority up to the trade's quantity, at the trade's price.

The engine runs on one endless session (the fake's ``today``), so the fake
works at any hour and never expires an order; its fee schedule is zero, so
cash moves by price x quantity exactly, as the fake always has.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import Protocol

from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.fake.counters import RequestCounters
from jts.brokers.creon.bridge.fake.objects import FakeComFactory
from jts.brokers.creon.bridge.fake.objects import as_int
from jts.brokers.creon.bridge.fake.orders import FakeOrder
from jts.brokers.creon.bridge.fake.prices import DEFAULT_LISTINGS
from jts.brokers.creon.bridge.fake.prices import KST
from jts.brokers.creon.bridge.fake.prices import Listing
from jts.brokers.creon.bridge.fake.prices import seed_listing
from jts.domain.enums import Market
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.instruments import krx_stock
from jts.domain.market import Tick
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.sim.account import SimAccount
from jts.sim.fees import CommissionRule
from jts.sim.fees import FeeSchedule
from jts.sim.matching import MatchingConfig
from jts.sim.matching import MatchingEngine

_SIDES = {"1": Side.SELL, "2": Side.BUY}
_NO_FEES = FeeSchedule({("KRX", None): CommissionRule.flat("0")})
_END_OF_TIME = 2**63 - 1


class Subscriber(Protocol):
    """A subscribed CpConclusion object."""

    def receive(self, headers: dict[int, Any]) -> None: ...


class _OneSession:
    """A trading calendar with one session that never closes: the fake's ``today``."""

    timezone = "Asia/Seoul"

    def __init__(self, today: date) -> None:
        self.today = today

    def is_open(self, ts: int) -> bool:
        return True

    def session_of(self, ts: int) -> date | None:
        return self.today

    def sessions(self, start: date, end: date) -> list[date]:
        return [self.today] if start <= self.today <= end else []

    def session_bounds(self, session: date) -> tuple[int, int]:
        return 0, _END_OF_TIME

    def settlement_date(self, session: date, days: int) -> date:
        return session + timedelta(days=days)


def _creon_message(reason: str) -> str:
    """Creon's words for a refusal the engine gave in its own."""
    if reason.startswith("insufficient cash"):
        return f"[40020] 매수가능금액이 부족합니다 ({reason})"
    if reason.startswith("insufficient position"):
        return f"[40021] 매도가능수량이 부족합니다 ({reason})"
    if "daily upper limit" in reason or "daily lower limit" in reason:
        return f"[40011] 주문가격이 가격제한폭을 벗어났습니다 ({reason})"
    if "tick" in reason or "ladder" in reason:
        return f"[40010] 주문가격이 호가단위에 맞지 않습니다 ({reason})"
    return f"[40099] 주문이 거부되었습니다 ({reason})"


class FakeCreonMarket:
    """The Creon world behind the fake objects: prices, one account, orders, counters."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        clock_ns: Callable[[], int] = time.time_ns,
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
        self._clock_ns = clock_ns
        self._last_ns = 0
        self.today = today or datetime.now(KST).date()
        self.account = account
        self.account_name = account_name
        self.product = product
        self.connected = True
        self.server_type = 1
        self.trade_ready = False
        self.counters = RequestCounters(
            clock, trade_limit=trade_limit, quote_limit=quote_limit, window=window
        )
        self.page_size = page_size
        self.submissions = 0
        self.book_prices: dict[str, int] = {}
        self._subscribers: list[Subscriber] = []
        self._events: list[dict[int, Any]] = []
        self._orders: dict[int, FakeOrder] = {}
        self._engine_id: dict[int, str] = {}  # live Creon number -> engine client order id
        self._creon_no: dict[str, int] = {}  # engine client order id -> its current number
        self._next_order_no = 1001
        self._drop_order_responses = 0
        self.lock = threading.RLock()  # the objects read the market under it too
        rng = random.Random(seed)
        self.listings: dict[str, Listing] = {
            code: seed_listing(
                rng, code, name, market, reference, self.today, history_days, minute_days
            )
            for code, (name, market, reference) in (listings or DEFAULT_LISTINGS).items()
        }
        self.instruments: dict[str, Instrument] = {
            code: krx_stock(
                code[1:], listing.name, Market.KOSDAQ if listing.market == 2 else Market.KOSPI
            )
            for code, listing in self.listings.items()
        }
        self.ledger = SimAccount(Decimal(cash), "KRW", account)
        self.engine = MatchingEngine(
            "KRX",
            self.instruments.values(),
            _OneSession(self.today),
            self.ledger,
            _NO_FEES,
            MatchingConfig(id_prefix="CREON"),
        )
        now = self._now()
        for code, listing in self.listings.items():
            key = self._key(code)
            self.engine.set_reference(key, Decimal(listing.prev_close))
            self.engine.on_tick(Tick(key, now, Decimal(listing.price), Decimal(1)))
        for code, quantity in (positions if positions is not None else {"A005930": 50}).items():
            self._hold(code, quantity, now)

    def _hold(self, code: str, quantity: int, ts: int) -> None:
        """Start with ``quantity`` shares bought at the previous close, cash unchanged."""
        price = Decimal(self.listings[code].prev_close)
        seed = Fill(
            fill_id=f"seed-{code}",
            order_id=f"seed-{code}",
            client_order_id=f"seed-{code}",
            instrument_id=self._key(code),
            side=Side.BUY,
            quantity=Decimal(quantity),
            price=price,
            commission=Decimal(0),
            tax=Decimal(0),
            ts=ts,
        )
        self.ledger.cash -= seed.cash_delta  # the seed costs nothing
        self.ledger.apply_fill(seed)
        self.book_prices[code] = int(price)

    def _key(self, code: str) -> str:
        return self.instruments[code].key

    def _now(self) -> int:
        """UTC ns that never go back, so the engine's causality rule holds."""
        self._last_ns = max(self._last_ns, self._clock_ns())
        return self._last_ns

    # -- what tests and the objects read --------------------------------------------------

    def factory(self) -> FakeComFactory:
        return FakeComFactory(self)

    @property
    def requests(self) -> dict[int, int]:
        return self.counters.requests

    @property
    def violations(self) -> int:
        return self.counters.violations

    @property
    def cash(self) -> int:
        return int(self.ledger.cash)

    @property
    def positions(self) -> dict[str, int]:
        held = self.ledger.positions()
        return {
            code: int(held[self._key(code)]) for code in self.listings if self._key(code) in held
        }

    def sellable(self, code: str) -> int:
        return int(self.ledger.available_quantity(self._key(code)))

    def orders(self) -> list[FakeOrder]:
        """Real orders placed (cancel orders excluded), oldest first."""
        with self.lock:
            return [o for o in self.all_orders() if not o.is_cancel]

    def order(self, order_no: int) -> FakeOrder | None:
        with self.lock:
            return self._orders.get(order_no)

    def all_orders(self) -> list[FakeOrder]:
        with self.lock:
            return sorted(self._orders.values(), key=lambda o: o.order_no)

    # -- counters -------------------------------------------------------------------------

    def remain(self, kind: int) -> int:
        if kind == com.LT_SUBSCRIBE:
            with self.lock:
                return 400 - len(self._subscribers)
        return self.counters.remain(kind)

    def remain_time_ms(self) -> int:
        return self.counters.remain_time_ms()

    def spend(self, kind: int) -> bool:
        return self.counters.spend(kind)

    # -- test controls --------------------------------------------------------------------

    def set_connected(self, connected: bool) -> None:
        with self.lock:
            self.connected = connected
            self.server_type = 1 if connected else 0

    def set_price(self, code: str, price: Decimal | int, volume: int | None = None) -> None:
        """Trade at ``price``: resting limit orders it crosses fill (at ``price``).

        ``volume`` caps the quantity that trades (partial fills); None fills everything.
        """
        px = int(price)
        with self.lock:
            listing = self.listings[code]
            listing.traded(px, volume or 1)
            everything = 1 + sum(o.open_quantity for o in self._orders.values() if o.code == code)
            size = Decimal(volume if volume is not None else everything)
            self._handle(self.engine.on_tick(Tick(self._key(code), self._now(), Decimal(px), size)))

    def trade(self, code: str, price: int, quantity: int) -> None:
        """A trade of exactly ``quantity`` at ``price``: crossing orders fill up to it.

        Time priority (the engine's queue); what the trade does not reach keeps working.
        """
        if quantity <= 0:
            raise ValueError(f"a trade needs a positive quantity, not {quantity}")
        self.set_price(code, price, quantity)

    def modify_by_hand(self, order_no: int, price: int) -> int:
        """A price modify made in the HTS: same events as CpTd0313; returns the new number."""
        with self.lock:
            modified, problem = self.modify(self._hand_inputs(order_no, price))
        if modified is None:
            raise ValueError(problem)
        return modified.order_no

    def cancel_by_hand(self, order_no: int) -> int:
        """A cancel made in the HTS: same events as CpTd0314; returns the cancel order number."""
        with self.lock:
            cancel, problem = self.cancel(self._hand_inputs(order_no, 0))
        if cancel is None:
            raise ValueError(problem)
        return cancel.order_no

    def _hand_inputs(self, order_no: int, price: int) -> dict[int, Any]:
        order = self._orders.get(order_no)
        code = order.code if order else ""
        return {1: order_no, 2: self.account, 3: self.product, 4: code, 5: 0, 6: price}

    def drop_next_order_response(self) -> None:
        """Arm ``faults.drop_order_responses``: the next POST /orders is answered by a cut.

        Nothing happens unless a test wrapped the app in that fault.
        """
        with self.lock:
            self._drop_order_responses += 1

    def take_drop_order_response(self) -> bool:
        with self.lock:
            if self._drop_order_responses <= 0:
                return False
            self._drop_order_responses -= 1
            return True

    # -- orders (the objects call these with their inputs) --------------------------------

    def place(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0311 request: the new order, or None and Creon's rejection message."""
        side = str(inputs.get(0, ""))
        code = str(inputs.get(3, ""))
        qty = as_int(inputs.get(4))
        price = as_int(inputs.get(5))
        hoga = str(inputs.get(8, "01"))
        condition = str(inputs.get(7, "0"))
        with self.lock:
            problem = self._order_problem(inputs, side, code, qty, price, hoga)
            if problem:
                return None, problem
            order_no = self._take_number()
            now = self._now()
            reports = self.engine.submit(
                Order(
                    instrument_id=self._key(code),
                    side=_SIDES[side],
                    order_type=OrderType.MARKET if hoga == "03" else OrderType.LIMIT,
                    quantity=Decimal(qty),
                    price=None if hoga == "03" else Decimal(price),
                    created_ts=now,
                    broker="CREON",
                    client_order_id=str(order_no),
                ),
                now,
            )
            if reports[0].status is OrderStatus.REJECTED:
                return None, _creon_message(reports[0].reason or "refused")
            order = FakeOrder(order_no, code, side, qty, price, hoga, condition)
            self._book(order, str(order_no))
            self.submissions += 1
            self._event(order, "4", order.quantity, order.price)
            self._arrive(order)
            if condition in ("1", "2") and order.open_quantity > 0:
                self._cancel_rest(order)
            return order, ""

    def _order_problem(
        self, inputs: dict[int, Any], side: str, code: str, qty: int, price: int, hoga: str
    ) -> str:
        """Creon's message for the first thing wrong that the engine does not check, or ""."""
        checks = (
            (not self.trade_ready, "[CpTd0311] 주문 초기화(TradeInit)가 되지 않았습니다"),
            (side not in _SIDES, "[40001] 매매구분 오류"),
            (
                inputs.get(1) != self.account or inputs.get(2) != self.product,
                "[40002] 계좌번호 또는 상품관리구분코드 오류",
            ),
            (code not in self.listings, f"[40003] 종목코드 오류 ({code})"),
            (qty <= 0, "[40004] 주문수량 오류"),
            (hoga not in ("01", "03"), f"[40006] 지원하지 않는 호가구분 ({hoga})"),
            (hoga == "03" and price != 0, "[40005] 시장가 주문은 가격을 입력하지 않습니다"),
            (hoga == "01" and price <= 0, f"[40010] 주문가격이 호가단위에 맞지 않습니다 ({price})"),
        )
        for failed, message in checks:
            if failed:
                return message
        return ""

    def modify(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0313 price modify: the order under its new number, or None and a message.

        Input 5 is the quantity to modify (0 = all that remains open), input 6 the new
        price. The modified quantity moves to a new order number that names the old
        one as its original; fills already made stay under the old number.
        """
        with self.lock:
            order, problem = self._amendable(inputs, "CpTd0313")
            if order is None:
                return None, problem
            qty = as_int(inputs.get(5)) or order.open_quantity
            if qty > order.open_quantity:
                return None, f"[40033] 정정수량이 정정가능수량({order.open_quantity})을 초과합니다"
            price = as_int(inputs.get(6))
            if price <= 0 or order.hoga != "01":
                return None, f"[40010] 주문가격이 호가단위에 맞지 않습니다 ({price})"
            engine_id = self._engine_id[order.order_no]
            now = self._now()
            new_no = self._take_number()
            if qty == order.open_quantity:
                try:
                    self._handle(self.engine.modify(engine_id, now, price=Decimal(price)))
                except InvalidOrder as refused:
                    return None, _creon_message(str(refused))
                del self._engine_id[order.order_no]
            else:
                part = Order(
                    instrument_id=self._key(order.code),
                    side=_SIDES[order.side],
                    order_type=OrderType.LIMIT,
                    quantity=Decimal(qty),
                    price=Decimal(price),
                    created_ts=now,
                    broker="CREON",
                    client_order_id=str(new_no),
                )
                reports = self.engine.submit(part, now)
                if reports[0].status is OrderStatus.REJECTED:
                    return None, _creon_message(reports[0].reason or "refused")
                self._lower(engine_id, qty, now)
                engine_id = str(new_no)
            order.moved += qty
            new = FakeOrder(new_no, order.code, order.side, qty, price, "01", order.condition)
            new.orig_order_no = order.order_no
            self._book(new, engine_id)
            self._event(new, "2", qty, price, modify_kind="2")
            self._arrive(new)
            return new, ""

    def cancel(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]:
        """A CpTd0314 request: the cancel order, or None and Creon's message.

        Input 5 is the quantity to cancel, 0 for all that remains open.
        """
        with self.lock:
            order, problem = self._amendable(inputs, "CpTd0314")
            if order is None:
                return None, problem
            qty = as_int(inputs.get(5))
            if qty > order.open_quantity:
                return None, f"[40032] 취소수량이 취소가능수량({order.open_quantity})을 초과합니다"
            return self._cancel_rest(order, qty or order.open_quantity), ""

    def _amendable(self, inputs: dict[int, Any], what: str) -> tuple[FakeOrder | None, str]:
        """The open order a modify or cancel names, or None and Creon's message."""
        orig = as_int(inputs.get(1))
        if not self.trade_ready:
            return None, f"[{what}] 주문 초기화(TradeInit)가 되지 않았습니다"
        if inputs.get(2) != self.account or inputs.get(3) != self.product:
            return None, "[40002] 계좌번호 또는 상품관리구분코드 오류"
        order = self._orders.get(orig)
        if order is None or order.is_cancel or order.code != str(inputs.get(4, "")):
            return None, f"[40030] 원주문번호 오류 ({orig})"
        if order.open_quantity <= 0:
            kind = "취소" if what == "CpTd0314" else "정정"
            return None, f"[40031] {kind}가능수량이 없습니다"
        return order, ""

    def _cancel_rest(self, order: FakeOrder, qty: int | None = None) -> FakeOrder:
        """Cancel ``qty`` (default all) of what ``order`` has open; the cancel's own row."""
        qty = min(qty or order.open_quantity, order.open_quantity)
        engine_id = self._engine_id[order.order_no]
        order.cancelled += qty  # first, so the engine's CANCELED report finds nothing open
        now = self._now()
        working = self.engine.order(engine_id)
        if working is not None and qty < working.leaves_quantity:
            self._lower(engine_id, qty, now)
        else:
            self._handle(self.engine.cancel(engine_id, now))
            self._engine_id.pop(order.order_no, None)
        cancel = FakeOrder(
            self._take_number(), order.code, order.side, qty, 0, order.hoga, order.condition
        )
        cancel.orig_order_no = order.order_no
        cancel.is_cancel = True
        self._orders[cancel.order_no] = cancel
        self._event(cancel, "2", qty, 0, modify_kind="3")
        return cancel

    def _lower(self, engine_id: str, qty: int, ts: int) -> None:
        """Take ``qty`` off an engine order that keeps working (its place in the queue too)."""
        working = self.engine.order(engine_id)
        assert working is not None
        self._handle(self.engine.modify(engine_id, ts, quantity=working.quantity - qty))

    def _take_number(self) -> int:
        number = self._next_order_no
        self._next_order_no += 1
        return number

    def _book(self, order: FakeOrder, engine_id: str) -> None:
        self._orders[order.order_no] = order
        self._engine_id[order.order_no] = engine_id
        self._creon_no[engine_id] = order.order_no

    def _arrive(self, order: FakeOrder) -> None:
        """A marketable order trades at once against the last price, up to its quantity.

        The engine matches on trades, so the arrival is a trade at the last price of
        the order's size. (An older crossing order on the same side, left by a
        volume-capped trade, comes first in the queue and takes from it.)
        """
        listing = self.listings[order.code]
        if order.hoga == "03":
            marketable = True
        elif order.side == "2":
            marketable = order.price >= listing.price
        else:
            marketable = order.price <= listing.price
        if marketable and order.open_quantity > 0:
            tick = Tick(
                self._key(order.code),
                self._now(),
                Decimal(listing.price),
                Decimal(order.open_quantity),
            )
            self._handle(self.engine.on_tick(tick))

    def _handle(self, reports: list[ExecutionReport]) -> None:
        """Fills reach their Creon number; an order the engine closed shows closed."""
        for report in reports:
            number = self._creon_no.get(report.client_order_id)
            order = None if number is None else self._orders.get(number)
            if order is None:
                continue
            if report.fill is not None:
                self._filled(order, int(report.fill.quantity), int(report.fill.price))
            elif report.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
                order.cancelled += order.open_quantity  # closed by the engine itself
                self._engine_id.pop(order.order_no, None)

    def _filled(self, order: FakeOrder, qty: int, price: int) -> None:
        order.filled += qty
        order.fill_value += qty * price
        if order.side == "2":
            held = self.positions.get(order.code, 0) - qty  # before this fill
            book = self.book_prices.get(order.code, 0)
            self.book_prices[order.code] = (held * book + qty * price) // (held + qty)
        self._event(order, "1", qty, price)

    # -- events ---------------------------------------------------------------------------

    def _event(
        self, order: FakeOrder, kind: str, qty: int, price: int, modify_kind: str = "1"
    ) -> None:
        """A CpConclusion event (broker-apis §2.8 header indices), queued for the pump."""
        listing = self.listings[order.code]
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
                22: self.sellable(order.code),
                23: self.positions.get(order.code, 0),
            }
        )

    def deliver_events(self) -> None:
        """What a message pump does: hand queued CpConclusion events to subscribers."""
        with self.lock:
            events, self._events = self._events, []
            subscribers = list(self._subscribers)
        for headers in events:
            for subscriber in subscribers:
                subscriber.receive(headers)

    def subscribe(self, obj: Subscriber) -> None:
        with self.lock:
            if obj not in self._subscribers:
                self._subscribers.append(obj)

    def unsubscribe(self, obj: Subscriber) -> None:
        with self.lock:
            if obj in self._subscribers:
                self._subscribers.remove(obj)
