"""KIS hosts and transaction ids, per environment (real 실전 or paper 모의투자).

Trading tr_ids differ between environments (paper swaps the leading T/J/C for
V); quotation tr_ids (F...) and real-time stream ids are the same in both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class KisEnvironment(enum.StrEnum):
    REAL = "real"
    PAPER = "paper"


@dataclass(frozen=True, slots=True)
class TrIds:
    buy: str
    sell: str
    modify_cancel: str
    balance: str
    daily_orders: str
    fill_notices: str  # WebSocket notice stream (encrypted)
    price: str = "FHKST01010100"
    daily_chart: str = "FHKST03010100"
    minute_chart_today: str = "FHKST03010200"
    minute_chart_past: str = "FHKST03010230"
    trades: str = "H0STCNT0"
    order_book: str = "H0STASP0"


@dataclass(frozen=True, slots=True)
class KisEndpoints:
    rest_url: str
    ws_url: str
    tr: TrIds
    # Requests per second KIS allows one app key (wrappers' figures; one under the cap).
    requests_per_second: int
    # Rows per page of the balance and daily-orders inquiries.
    balance_page: int
    orders_page: int


REAL = KisEndpoints(
    rest_url="https://openapi.koreainvestment.com:9443",
    ws_url="ws://ops.koreainvestment.com:21000",
    tr=TrIds(
        buy="TTTC0012U",
        sell="TTTC0011U",
        modify_cancel="TTTC0013U",
        balance="TTTC8434R",
        daily_orders="TTTC0081R",
        fill_notices="H0STCNI0",
    ),
    requests_per_second=19,
    balance_page=50,
    orders_page=100,
)

PAPER = KisEndpoints(
    rest_url="https://openapivts.koreainvestment.com:29443",
    ws_url="ws://ops.koreainvestment.com:31000",
    tr=TrIds(
        buy="VTTC0012U",
        sell="VTTC0011U",
        modify_cancel="VTTC0013U",
        balance="VTTC8434R",
        daily_orders="VTTC0081R",
        fill_notices="H0STCNI9",
    ),
    requests_per_second=2,
    balance_page=20,
    orders_page=15,
)


def endpoints_for(environment: KisEnvironment) -> KisEndpoints:
    return REAL if environment is KisEnvironment.REAL else PAPER


class Paths:
    TOKEN = "/oauth2/tokenP"
    APPROVAL = "/oauth2/Approval"
    PRICE = "/uapi/domestic-stock/v1/quotations/inquire-price"
    DAILY_CHART = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"
    MINUTE_CHART_TODAY = "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice"
    MINUTE_CHART_PAST = "/uapi/domestic-stock/v1/quotations/inquire-time-dailychartprice"
    ORDER_CASH = "/uapi/domestic-stock/v1/trading/order-cash"
    MODIFY_CANCEL = "/uapi/domestic-stock/v1/trading/order-rvsecncl"
    BALANCE = "/uapi/domestic-stock/v1/trading/inquire-balance"
    DAILY_ORDERS = "/uapi/domestic-stock/v1/trading/inquire-daily-ccld"
    WEBSOCKET = "/tryitout"
