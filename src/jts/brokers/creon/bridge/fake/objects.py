"""The Creon COM objects as the bridge sees them, over a ``FakeCreonMarket``.

Shaped like the real ones (broker-apis §2.1-2.8): input, header and data value
indices as documented in the Cybos help, ``BlockRequest`` status codes (4 when
the order counter is spent), rejections through ``GetDibStatus() == -1`` and
``GetDibMsg1()``, ``Continue`` paging (each page keeps its headers and its own
row count), Creon's request counters, and ``CpConclusion`` events that arrive
only when the COM thread pumps messages. The world behind them (prices,
orders, the account) is ``market.FakeCreonMarket``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Protocol

from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.fake.orders import FakeOrder
from jts.brokers.creon.bridge.fake.prices import KST
from jts.brokers.creon.bridge.fake.prices import TICKS
from jts.brokers.creon.bridge.fake.prices import Listing
from jts.brokers.creon.bridge.fake.prices import minute_rows


class FakeCreonMarket(Protocol):
    """What the objects read of ``market.FakeCreonMarket`` (which imports this module)."""

    account: str
    account_name: str
    product: str
    connected: bool
    server_type: int
    trade_ready: bool
    page_size: int
    listings: dict[str, Listing]
    book_prices: dict[str, int]

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def cash(self) -> int: ...

    @property
    def positions(self) -> dict[str, int]: ...

    def sellable(self, code: str) -> int: ...

    def all_orders(self) -> list[FakeOrder]: ...

    def place(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]: ...

    def modify(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]: ...

    def cancel(self, inputs: dict[int, Any]) -> tuple[FakeOrder | None, str]: ...

    def remain(self, kind: int) -> int: ...

    def remain_time_ms(self) -> int: ...

    def spend(self, kind: int) -> bool: ...

    def subscribe(self, obj: FakeConclusion) -> None: ...

    def unsubscribe(self, obj: FakeConclusion) -> None: ...

    def deliver_events(self) -> None: ...


def as_int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def as_char(value: Any) -> str:
    """Creon char inputs are passed as ``ord('1')`` from Python; accept a string too."""
    if isinstance(value, int):
        return chr(value)
    return str(value)


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
        with self.market.lock:
            self.headers = {
                0: listing.code,
                1: listing.name,
                4: now.hour * 100 + now.minute,
                8: listing.upper_limit(),
                9: listing.lower_limit(),
                10: listing.prev_close,
                11: listing.price,
                12: listing.price - listing.prev_close,
                13: listing.open,
                14: listing.high,
                15: listing.low,
                16: int(TICKS.shift(Decimal(listing.price), 1)),
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
        chart = as_char(self.inputs.get(6, ord("D")))
        period = as_int(self.inputs.get(7)) or 1
        if chart == "D":
            table = [
                {0: d, 1: 0, 2: o, 3: h, 4: lo, 5: c, 8: v} for d, o, h, lo, c, v in listing.days
            ]
            table[-1].update({2: listing.open, 3: listing.high, 4: listing.low, 5: listing.price})
        elif chart == "m":
            table = minute_rows(listing.minutes, period)
        else:
            self._fail(f"[StockChart] 지원하지 않는 차트구분 ({chart})")
            return
        by_period = as_char(self.inputs.get(1, ord("2"))) == "1"
        if by_period:
            end = as_int(self.inputs.get(2)) or 99_999_999
            start = as_int(self.inputs.get(3))
            table = [r for r in table if start <= r[0] <= end]
        else:
            count = as_int(self.inputs.get(4)) or 1
            table = table[-count:]
        newest_first = [{pos: row.get(f, 0) for pos, f in enumerate(fields)} for row in table[::-1]]
        self._serve(newest_first)
        self._set_headers(listing, fields)

    def _set_headers(self, listing: Listing, fields: Sequence[int]) -> None:
        self.headers = {
            0: listing.code,
            1: len(fields),
            2: tuple(str(f) for f in fields),
            3: len(self.rows),
            6: listing.prev_close,
            7: listing.price,
        }


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
        if as_char(self.inputs.get(5, "0")) == "1":
            rows.reverse()
        self._serve(rows, min(20, as_int(self.inputs.get(7)) or 20))
        self.headers = {0: self.market.account, 1: self.market.product, 5: len(self.rows)}


class FakeTodayOrders(_AccountDib):
    """CpTd5341: today's orders and fills, one row per order (cancel orders have their own row)."""

    count_header = 6

    def request(self) -> None:
        if not self._account_ok():
            return
        code = str(self.inputs.get(2, "") or "")
        start = as_int(self.inputs.get(3))
        rows = [
            _today_row(self.market, o)
            for o in self.market.all_orders()
            if (not code or o.code == code) and o.order_no >= start
        ]
        if as_char(self.inputs.get(4, "1")) == "1":
            rows.reverse()
        self._serve(rows, min(20, as_int(self.inputs.get(5)) or 7))
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
        with market.lock:
            held = [(c, q) for c, q in market.positions.items() if q > 0]
            rows = [
                {
                    0: market.listings[c].name,
                    3: q,
                    7: q,
                    9: q * market.listings[c].price,
                    12: c,
                    15: market.sellable(c),
                    17: float(market.book_prices.get(c, 0)),
                }
                for c, q in held
            ]
            cash = market.cash
        self._serve(rows, min(50, as_int(self.inputs.get(2)) or 14))
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
