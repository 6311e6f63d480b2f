"""KIS rows (strings, KST dates and times) to domain values."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import DataError
from jts.domain.instruments import KRX
from jts.domain.instruments import InstrumentId
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ns_to_dt

SEOUL = ZoneInfo("Asia/Seoul")
SELL_CODE, BUY_CODE = "01", "02"


def code_of(instrument_id: str) -> str:
    parsed = InstrumentId.parse(instrument_id)
    if parsed.venue != KRX:
        raise DataError(f"KIS trades KRX stocks only, not {instrument_id}")
    return parsed.code


def instrument_of(code: str) -> str:
    return f"{KRX}:{code.strip()}"


def dec(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise DataError(f"KIS field {field}: not a number: {value!r}") from None


def kst_ns(day: str, hhmmss: str) -> int:
    try:
        moment = datetime.strptime(day + hhmmss.strip().zfill(6)[:6] + "+0900", "%Y%m%d%H%M%S%z")
    except ValueError:
        raise DataError(f"KIS date/time {day!r} {hhmmss!r} malformed") from None
    return dt_to_ns(moment)


def kst_time(ts_ns: int) -> datetime:
    """``ts_ns`` in Seoul, exactly: a float division would put midnight's last nanosecond
    on the next day (``ts / 1e9`` rounds it up), so a range ending at midnight would ask
    KIS for one day more."""
    return ns_to_dt(ts_ns).astimezone(SEOUL)


def kst_day(ts_ns: int) -> date:
    return kst_time(ts_ns).date()


def side_code(side: Side) -> str:
    return BUY_CODE if side is Side.BUY else SELL_CODE


def side_of(code: str) -> Side:
    return Side.BUY if code.strip() == BUY_CODE else Side.SELL


def order_row(row: dict[str, Any], client_order_id: str | None) -> OrderStatusReport:
    """A row of inquire-daily-ccld as the platform's view of the order."""
    quantity = dec(row.get("ord_qty"), "ord_qty")
    filled = dec(row.get("tot_ccld_qty"), "tot_ccld_qty")
    remaining = dec(row.get("rmn_qty"), "rmn_qty")
    rejected = dec(row.get("rjct_qty"), "rjct_qty")
    price = dec(row.get("ord_unpr"), "ord_unpr")
    avg = dec(row.get("avg_prvs"), "avg_prvs")
    cancelled = str(row.get("cncl_yn", "")).strip().upper() == "Y"
    if filled >= quantity > 0:
        status = OrderStatus.FILLED
    elif rejected > 0 and filled == 0:
        status = OrderStatus.REJECTED
    elif cancelled or (remaining == 0 and filled < quantity):
        status = OrderStatus.CANCELED
    elif filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    else:
        status = OrderStatus.ACCEPTED
    return OrderStatusReport(
        client_order_id=client_order_id,
        venue_order_id=str(row.get("odno", "")).strip(),
        instrument_id=instrument_of(str(row.get("pdno", ""))),
        side=side_of(str(row.get("sll_buy_dvsn_cd", ""))),
        quantity=quantity,
        price=price if price > 0 else None,
        filled_quantity=filled,
        avg_fill_price=avg if filled > 0 else None,
        status=status,
        ts=kst_ns(str(row.get("ord_dt", "")), str(row.get("ord_tmd", ""))),
    )
