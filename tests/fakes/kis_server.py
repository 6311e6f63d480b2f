"""A local fake of the KIS (Korea Investment & Securities) Open API for adapter tests.

It speaks the real wire protocol (REST paths, headers, tr_ids, JSON envelope, paging, websocket
framing, AES-256-CBC notices) so an adapter tested against it needs no changes for the real
service. Facts come from /work/shared/reference/broker-apis.md section 1, the official sample repo
(koreainvestment/open-trading-api ``kis_auth.py``, ``domestic_stock_functions*.py``) and pykis.

Message codes taken from public sources: EGW00103/00105 (bad app key/secret), EGW00121/00123
(invalid/expired token), EGW00133 (token issued within a minute), EGW00201 (rate limit),
EGW02006 (wrong environment's tr_id), OPSQ0002 (unknown service), OPSQ2000 (account check),
APBK0919 (cash), OPSP0000/0001/0002/0003/0008/0011/8996 (websocket acks). Codes the fake needs but
that were not found in public material use the prefix ``FAKE`` so nobody mistakes them for KIS's.

Required fields are those the official samples mark ``[필수]``; a blank one is refused like an
absent one (OPSQ2001). A cancel or modify needs the order's ``KRX_FWDG_ORD_ORGNO`` (the branch the
order answer and ``ord_gno_brno`` of the order inquiry give); ``rest_rate_per_second`` sets the
per-key limit below what an adapter is configured for, to test its back-off.

Simplifications, on purpose: cash settles at once (no T+2, no fees or taxes); a limit order rests
until ``set_price`` crosses it, even when it was marketable on entry; "today" for the intraday
minute-chart endpoint is the newest date among the bars added for that code; every issuance gives
a new token (KIS may hand back the same one within 6 hours).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import socket
import string
import time
from collections import deque
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import MutableMapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes
from fastapi import FastAPI
from fastapi import Request
from fastapi import WebSocket
from fastapi import WebSocketDisconnect
from fastapi.responses import JSONResponse

KST = timezone(timedelta(hours=9))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/uapi/domestic-stock/v1"
P_PRICE = f"{PREFIX}/quotations/inquire-price"
P_DAILY = f"{PREFIX}/quotations/inquire-daily-itemchartprice"
P_MINUTE = f"{PREFIX}/quotations/inquire-time-itemchartprice"
P_MINUTE_DAY = f"{PREFIX}/quotations/inquire-time-dailychartprice"
P_ORDER = f"{PREFIX}/trading/order-cash"
P_RVSECNCL = f"{PREFIX}/trading/order-rvsecncl"
# ORD_DVSN 11 IOC지정가, 13 IOC시장가 (즉시체결, 잔량취소), as KIS's order samples list them.
IOC_LIMIT, IOC_MARKET = "11", "13"
P_BALANCE = f"{PREFIX}/trading/inquire-balance"
P_CCLD = f"{PREFIX}/trading/inquire-daily-ccld"

# Real-environment tr_ids per path; the paper ids are these with T/J/C swapped for V.
_TRADING_TR_IDS: dict[str, frozenset[str]] = {
    P_ORDER: frozenset({"TTTC0012U", "TTTC0011U", "TTTC0802U", "TTTC0801U"}),
    P_RVSECNCL: frozenset({"TTTC0013U", "TTTC0803U"}),
    P_BALANCE: frozenset({"TTTC8434R"}),
    P_CCLD: frozenset({"TTTC0081R", "TTTC8001R"}),
}
_QUOTE_TR_IDS: dict[str, str] = {
    P_PRICE: "FHKST01010100",
    P_DAILY: "FHKST03010100",
    P_MINUTE: "FHKST03010200",
    P_MINUTE_DAY: "FHKST03010230",
}
_SELL_TR_IDS = frozenset({"TTTC0011U", "TTTC0801U"})

TRADE_COLUMNS = (  # noqa: SIM905 - a list literal would take 46 lines
    "MKSC_SHRN_ISCD STCK_CNTG_HOUR STCK_PRPR PRDY_VRSS_SIGN PRDY_VRSS PRDY_CTRT "
    "WGHN_AVRG_STCK_PRC STCK_OPRC STCK_HGPR STCK_LWPR ASKP1 BIDP1 CNTG_VOL ACML_VOL "
    "ACML_TR_PBMN SELN_CNTG_CSNU SHNU_CNTG_CSNU NTBY_CNTG_CSNU CTTR SELN_CNTG_SMTN "
    "SHNU_CNTG_SMTN CCLD_DVSN SHNU_RATE PRDY_VOL_VRSS_ACML_VOL_RATE OPRC_HOUR "
    "OPRC_VRSS_PRPR_SIGN OPRC_VRSS_PRPR HGPR_HOUR HGPR_VRSS_PRPR_SIGN HGPR_VRSS_PRPR "
    "LWPR_HOUR LWPR_VRSS_PRPR_SIGN LWPR_VRSS_PRPR BSOP_DATE NEW_MKOP_CLS_CODE TRHT_YN "
    "ASKP_RSQN1 BIDP_RSQN1 TOTAL_ASKP_RSQN TOTAL_BIDP_RSQN VOL_TNRT PRDY_SMNS_HOUR_ACML_VOL "
    "PRDY_SMNS_HOUR_ACML_VOL_RATE HOUR_CLS_CODE MRKT_TRTM_CLS_CODE VI_STND_PRC"
).split()
NOTICE_COLUMNS = (  # noqa: SIM905
    "CUST_ID ACNT_NO ODER_NO OODER_NO SELN_BYOV_CLS RCTF_CLS ODER_KIND ODER_COND "
    "STCK_SHRN_ISCD CNTG_QTY CNTG_UNPR STCK_CNTG_HOUR RFUS_YN CNTG_YN ACPT_YN BRNC_NO "
    "ODER_QTY ACNT_NAME ORD_COND_PRC ORD_EXG_GB POPUP_YN FILLER CRDT_CLS CRDT_LOAN_DATE "
    "CNTG_ISNM40 ODER_PRC"
).split()
BOOK_COLUMNS = (
    ["MKSC_SHRN_ISCD", "BSOP_HOUR", "HOUR_CLS_CODE"]
    + [f"ASKP{i}" for i in range(1, 11)]
    + [f"BIDP{i}" for i in range(1, 11)]
    + [f"ASKP_RSQN{i}" for i in range(1, 11)]
    + [f"BIDP_RSQN{i}" for i in range(1, 11)]
    + (  # noqa: SIM905 - a list literal would take 16 lines
        "TOTAL_ASKP_RSQN TOTAL_BIDP_RSQN OVTM_TOTAL_ASKP_RSQN OVTM_TOTAL_BIDP_RSQN ANTC_CNPR "
        "ANTC_CNQN ANTC_VOL ANTC_CNTG_VRSS ANTC_CNTG_VRSS_SIGN ANTC_CNTG_PRDY_CTRT ACML_VOL "
        "TOTAL_ASKP_RSQN_ICDC TOTAL_BIDP_RSQN_ICDC OVTM_TOTAL_ASKP_ICDC OVTM_TOTAL_BIDP_ICDC "
        "STCK_DEAL_CLS_CODE"
    ).split()
)
assert len(BOOK_COLUMNS) == 59
assert len(TRADE_COLUMNS) == 46
assert len(NOTICE_COLUMNS) == 26

BRANCH = "91252"  # KRX_FWDG_ORD_ORGNO / ord_gno_brno the fake hands out


class _KisError(Exception):
    """A KIS error answer: ``status`` 500 for gateway (EGW) errors, 200 for business errors."""

    def __init__(self, msg_cd: str, msg1: str, *, status: int = 200) -> None:
        super().__init__(f"{msg_cd} {msg1}")
        self.msg_cd = msg_cd
        self.msg1 = msg1
        self.status = status


def tick_size(price: Decimal) -> Decimal:
    """KRX tick for a stock price (unified table from 2023-01-25)."""
    for bound, tick in (
        (2_000, 1),
        (5_000, 5),
        (20_000, 10),
        (50_000, 50),
        (200_000, 100),
        (500_000, 500),
    ):
        if price < bound:
            return Decimal(tick)
    return Decimal(1000)


def _s(value: Decimal | int) -> str:
    """KIS renders numbers as plain strings without exponent or trailing zeros."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _kst_now() -> datetime:
    return datetime.now(KST)


@dataclass
class FakePosition:
    qty: int = 0
    avg_price: Decimal = Decimal(0)
    bought_today: int = 0
    sold_today: int = 0


@dataclass
class FakeAccount:
    app_key: str
    app_secret: str
    cano: str
    product: str
    hts_id: str
    cash: Decimal
    positions: dict[str, FakePosition] = field(default_factory=dict)

    @property
    def acnt_no(self) -> str:
        return self.cano + self.product


@dataclass
class FakeOrder:
    """An order resting at (or done with) the fake venue.

    A price modification creates a new ``FakeOrder`` with ``orgn_odno`` set (as KIS gives the
    modified remainder a new order number); the original keeps ``replaced_qty``.
    """

    odno: str
    cano: str
    code: str
    side: str  # "01" sell, "02" buy
    qty: int
    price: Decimal  # limit price; 0 for market orders
    ord_dvsn: str
    ord_dt: str
    ord_tmd: str
    tr_id: str
    orgn_odno: str = ""
    filled_qty: int = 0
    avg_price: Decimal = Decimal(0)
    cancelled_qty: int = 0
    replaced_qty: int = 0
    rejected: bool = False

    @property
    def cancelled(self) -> bool:
        return self.cancelled_qty > 0

    @property
    def remaining(self) -> int:
        if self.rejected:
            return 0
        return self.qty - self.filled_qty - self.cancelled_qty - self.replaced_qty


@dataclass
class FakeCancel:
    """A cancel request accepted by the venue (it has its own order number, like at KIS)."""

    odno: str
    orgn_odno: str
    cano: str
    code: str
    side: str
    qty: int
    ord_dt: str
    ord_tmd: str


@dataclass
class _Quote:
    base: Decimal  # previous close proxy: the first price set
    price: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int = 0
    turnover: Decimal = Decimal(0)
    last_volume: int = 0


@dataclass
class _Token:
    app_key: str
    expires_at: float


@dataclass(eq=False)
class _WsSession:
    websocket: WebSocket
    transport: Any
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    app_key: str | None = None
    approval_key: str | None = None
    subscriptions: set[tuple[str, str]] = field(default_factory=set)
    aes_key: str = ""
    aes_iv: str = ""


def _transport_of(receive: Receive) -> Any:
    """The asyncio transport behind a uvicorn ``receive`` callable (bound to its protocol)."""
    owner = getattr(receive, "__self__", None)
    return getattr(owner, "transport", None)


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def aes_encrypt(key: str, iv: str, plain: str) -> str:
    """AES-256-CBC + PKCS7, base64: what KIS does to notice payloads."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(
        algorithms.AES(key.encode("utf-8")), modes.CBC(iv.encode("utf-8"))
    ).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def aes_decrypt(key: str, iv: str, cipher_text: str) -> str:
    """Inverse of :func:`aes_encrypt` (what a client does with ``output.key``/``output.iv``)."""
    decryptor = Cipher(
        algorithms.AES(key.encode("utf-8")), modes.CBC(iv.encode("utf-8"))
    ).decryptor()
    data = decryptor.update(base64.b64decode(cipher_text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")


class FakeKis:
    """In-process KIS REST + websocket server with a tiny matching venue behind it."""

    def __init__(
        self,
        *,
        paper: bool = False,
        rest_rate_per_second: int | None = None,
        token_ttl_seconds: int = 86400,
        token_issue_interval_seconds: float = 60.0,
        ping_interval: float = 10.0,
        ws_max_subscriptions: int = 40,
    ) -> None:
        self.paper = paper
        self.rest_rate_per_second = (
            rest_rate_per_second if rest_rate_per_second is not None else (2 if paper else 20)
        )
        self.token_ttl_seconds = token_ttl_seconds
        self.token_issue_interval_seconds = token_issue_interval_seconds
        self.ping_interval = ping_interval
        self.ws_max_subscriptions = ws_max_subscriptions

        self.rest_url = ""
        self.ws_url = ""

        # observation
        self.token_issuances = 0
        self.token_refusals = 0  # EGW00133 answers
        self.approval_issuances = 0
        self.orders: list[FakeOrder] = []
        self.cancels: list[FakeCancel] = []
        self.requests: list[tuple[str, str, str]] = []
        self.queries: list[tuple[str, dict[str, str]]] = []  # (path, parameters) answered
        self.rate_limited = 0
        self.rate_limited_at: list[float] = []  # monotonic times of the EGW00201 answers
        # False lists today's orders without ord_gno_brno (a test of the adapter's refusal).
        self.list_branches = True
        self.ws_subscriptions: dict[str, set[tuple[str, str]]] = {}
        self.pongs = 0
        self.names: dict[str, str] = {"005930": "삼성전자", "000660": "SK하이닉스"}

        self._accounts: dict[str, FakeAccount] = {}  # by app key
        self._tokens: dict[str, _Token] = {}
        self._approvals: dict[str, str] = {}  # approval key -> app key
        self._last_issue: dict[str, float] = {}
        self._calls: dict[str, deque[float]] = {}
        self._quotes: dict[str, _Quote] = {}
        self._minute_bars: dict[str, dict[tuple[str, str], tuple[Any, ...]]] = {}
        self._daily_bars: dict[str, dict[str, tuple[Any, ...]]] = {}
        self._drops: list[tuple[str, bool]] = []
        self._held_notices: list[tuple[FakeAccount, dict[str, str]]] | None = None
        self._reject_next: tuple[str, str, bool] | None = None
        self._sessions: set[_WsSession] = set()
        self._next_odno = 1
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._app = self._build_app()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0) -> None:
        # proto=IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted sockets; without it every
        # response after the first waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            log_level="warning",
            http="h11",
            ws="websockets-sansio",
            ws_ping_interval=None,
            ws_ping_timeout=None,
            proxy_headers=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serve_task.done():
                self._serve_task.result()
                raise RuntimeError("fake KIS server stopped during start-up")
            await asyncio.sleep(0.005)
        self.rest_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is None or self._serve_task is None:
            return
        self.drop_websockets()
        self._server.should_exit = True
        await self._serve_task
        self._server = None
        self._serve_task = None

    async def __aenter__(self) -> FakeKis:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ set-up

    def add_account(
        self,
        *,
        app_key: str,
        app_secret: str,
        cano: str,
        product: str = "01",
        hts_id: str = "testuser",
        cash: Decimal = Decimal("100000000"),
    ) -> None:
        self._accounts[app_key] = FakeAccount(app_key, app_secret, cano, product, hts_id, cash)

    def set_position(self, app_key: str, code: str, qty: int, avg_price: Decimal) -> None:
        """Give an account holdings without trading (for sell and balance tests)."""
        self._accounts[app_key].positions[code] = FakePosition(qty, avg_price)

    def set_price(self, code: str, price: Decimal, *, volume: int = 0, fill: bool = True) -> None:
        """Trade at ``price``: push H0STCNT0 to subscribers; with ``fill``, fill crossing limits."""
        quote = self._quotes.get(code)
        if quote is None:
            quote = _Quote(base=price, price=price, open=price, high=price, low=price)
            self._quotes[code] = quote
        quote.price = price
        quote.high = max(quote.high, price)
        quote.low = min(quote.low, price)
        quote.volume += volume
        quote.last_volume = volume
        quote.turnover += price * volume
        self._push_trade(code, quote)
        self._push_book(code, quote)
        if not fill:
            return
        for order in list(self.orders):
            if order.code != code or order.remaining <= 0 or order.ord_dvsn != "00":
                continue
            crosses = order.price >= price if order.side == "02" else order.price <= price
            if crosses:
                self._fill(order, order.remaining, order.price)

    def add_minute_bars(
        self, code: str, bars: list[tuple[str, str, Decimal, Decimal, Decimal, Decimal, int]]
    ) -> None:
        store = self._minute_bars.setdefault(code, {})
        for bar in bars:
            store[(bar[0], bar[1])] = bar

    def add_daily_bars(
        self, code: str, bars: list[tuple[str, Decimal, Decimal, Decimal, Decimal, int]]
    ) -> None:
        store = self._daily_bars.setdefault(code, {})
        for bar in bars:
            store[bar[0]] = bar

    # ------------------------------------------------------------------ fault injection

    def drop_next(self, path_suffix: str, *, after_processing: bool = True) -> None:
        self._drops.append((path_suffix, after_processing))

    def expire_tokens(self) -> None:
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, time.time() - 1)

    def reject_next_order(
        self,
        msg_cd: str = "APBK0919",
        msg1: str = "주문가능금액을 초과 했습니다",
        *,
        at_venue: bool = False,
    ) -> None:
        """Reject the next order-cash call.

        By default the REST call answers ``rt_cd "1"`` (a broker pre-check). With ``at_venue`` the
        order is accepted (an ODNO is returned) and then refused: a notice with RFUS_YN "1" is
        pushed and daily-ccld shows it with ``rjct_qty``.
        """
        self._reject_next = (msg_cd, msg1, at_venue)

    def drop_websockets(self) -> None:
        for session in list(self._sessions):
            self._abort_session(session)

    # ------------------------------------------------------------------ ASGI plumbing

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.add_api_route("/oauth2/tokenP", self._token, methods=["POST"])
        app.add_api_route("/oauth2/Approval", self._approval, methods=["POST"])
        app.add_api_route("/uapi/{rest:path}", self._uapi, methods=["GET", "POST"])
        app.add_api_websocket_route("/tryitout", self._websocket)
        app.add_api_websocket_route("/tryitout/{tr_id}", self._websocket)
        return app

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Outer ASGI layer: records requests and aborts connections for ``drop_next``."""
        if scope["type"] == "websocket":
            scope["fakekis.transport"] = _transport_of(receive)
            await self._app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        self.requests.append((scope["method"], path, headers.get("tr_id", "")))
        drop = next((d for d in self._drops if path.endswith(d[0])), None)
        if drop is None:
            await self._app(scope, receive, send)
            return
        self._drops.remove(drop)
        if drop[1]:

            async def swallow(message: Message) -> None:
                return None

            await self._app(scope, receive, swallow)
        transport = _transport_of(receive)
        transport.abort()
        owner = receive.__self__  # type: ignore[attr-defined]
        for _ in range(20):  # let connection_lost run so uvicorn does not answer a 500
            if getattr(owner, "disconnected", True):
                break
            await asyncio.sleep(0)

    # ------------------------------------------------------------------ responses

    def _answer(
        self, body: dict[str, Any], *, tr_id: str = "", tr_cont: str = "", status: int = 200
    ) -> JSONResponse:
        headers = {"tr_id": tr_id, "tr_cont": tr_cont, "gt_uid": secrets.token_hex(16)}
        return JSONResponse(body, status_code=status, headers=headers)

    def _error(self, err: _KisError, tr_id: str = "") -> JSONResponse:
        body = {"rt_cd": "1", "msg_cd": err.msg_cd, "msg1": err.msg1}
        return self._answer(body, tr_id=tr_id, status=err.status)

    @staticmethod
    def _ok(msg1: str = "정상처리 되었습니다.", msg_cd: str = "MCA00000") -> dict[str, Any]:
        return {"rt_cd": "0", "msg_cd": msg_cd, "msg1": msg1}

    # ------------------------------------------------------------------ oauth

    @staticmethod
    async def _json_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _check_app(self, appkey: Any, secret: Any) -> FakeAccount | JSONResponse:
        account = self._accounts.get(appkey) if isinstance(appkey, str) else None
        if account is None:
            return JSONResponse(
                {"error_description": "유효하지 않은 AppKey입니다.", "error_code": "EGW00103"},
                status_code=403,
            )
        if secret != account.app_secret:
            return JSONResponse(
                {"error_description": "유효하지 않은 AppSecret입니다.", "error_code": "EGW00105"},
                status_code=403,
            )
        return account

    async def _token(self, request: Request) -> JSONResponse:
        body = await self._json_body(request)
        if body.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error_description": "grant_type을 확인하세요.", "error_code": "FAKE0001"},
                status_code=403,
            )
        checked = self._check_app(body.get("appkey"), body.get("appsecret"))
        if isinstance(checked, JSONResponse):
            return checked
        now = time.monotonic()
        last = self._last_issue.get(checked.app_key)
        if last is not None and now - last < self.token_issue_interval_seconds:
            self.token_refusals += 1
            return JSONResponse(
                {
                    "error_description": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)",
                    "error_code": "EGW00133",
                },
                status_code=403,
            )
        self._last_issue[checked.app_key] = now
        token = "eyJ0eXAiOiJKV1Q" + secrets.token_urlsafe(48)
        expires_at = time.time() + self.token_ttl_seconds
        self._tokens[token] = _Token(checked.app_key, expires_at)
        self.token_issuances += 1
        expired_text = datetime.fromtimestamp(expires_at, KST).strftime("%Y-%m-%d %H:%M:%S")
        return JSONResponse(
            {
                "access_token": token,
                "access_token_token_expired": expired_text,
                "token_type": "Bearer",
                "expires_in": self.token_ttl_seconds,
            }
        )

    async def _approval(self, request: Request) -> JSONResponse:
        body = await self._json_body(request)
        checked = self._check_app(body.get("appkey"), body.get("secretkey"))
        if isinstance(checked, JSONResponse):
            return checked
        key = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-" + (
            f"{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        )
        self._approvals[key] = checked.app_key
        self.approval_issuances += 1
        return JSONResponse({"approval_key": key})

    # ------------------------------------------------------------------ /uapi gateway

    def _authenticate(self, request: Request) -> FakeAccount:
        headers = request.headers
        appkey = headers.get("appkey")
        if not appkey:
            raise _KisError("EGW00102", "AppKey는 필수입니다.", status=500)
        account = self._accounts.get(appkey)
        if account is None:
            raise _KisError("EGW00103", "유효하지 않은 AppKey입니다.", status=500)
        secret = headers.get("appsecret")
        if not secret:
            raise _KisError("EGW00104", "AppSecret는 필수입니다.", status=500)
        if secret != account.app_secret:
            raise _KisError("EGW00105", "유효하지 않은 AppSecret입니다.", status=500)
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        token = self._tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.app_key != appkey:
            raise _KisError("EGW00121", "유효하지 않은 token 입니다.", status=500)
        if token.expires_at <= time.time():
            raise _KisError("EGW00123", "기간이 만료된 token 입니다.", status=500)
        return account

    def _rate_check(self, app_key: str) -> None:
        now = time.monotonic()
        window = self._calls.setdefault(app_key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rest_rate_per_second:
            self.rate_limited += 1
            self.rate_limited_at.append(now)
            raise _KisError("EGW00201", "초당 거래건수를 초과하였습니다.", status=500)
        window.append(now)

    def _check_tr_id(self, path: str, tr_id: str) -> None:
        quote_id = _QUOTE_TR_IDS.get(path)
        if quote_id is not None:
            if tr_id != quote_id:
                raise _KisError("OPSQ0002", "없는 서비스 코드 입니다", status=500)
            return
        real_ids = _TRADING_TR_IDS.get(path)
        if real_ids is None:
            raise _KisError("OPSQ0002", "없는 서비스 코드 입니다", status=500)
        paper_ids = {"V" + t[1:] for t in real_ids}
        mine, other = (paper_ids, real_ids) if self.paper else (real_ids, paper_ids)
        if tr_id in mine:
            return
        if tr_id in other:
            text = "모의투자 TR 이 아닙니다." if self.paper else "실전투자 TR 이 아닙니다."
            raise _KisError("EGW02006", text, status=500)
        raise _KisError("OPSQ0002", "없는 서비스 코드 입니다", status=500)

    async def _uapi(self, request: Request, rest: str) -> JSONResponse:
        path = request.url.path
        tr_id = request.headers.get("tr_id", "")
        try:
            account = self._authenticate(request)
            self._rate_check(account.app_key)
            self._check_tr_id(path, tr_id)
            if (request.method == "POST") != (path in (P_ORDER, P_RVSECNCL)):
                raise _KisError("FAKE0005", "허용되지 않는 HTTP 메소드입니다.", status=405)
            if request.headers.get("custtype") not in ("P", "B"):
                raise _KisError("FAKE0002", "custtype 헤더를 확인하세요.", status=500)
            handler = {
                P_PRICE: self._inquire_price,
                P_DAILY: self._daily_chart,
                P_MINUTE: self._minute_chart,
                P_MINUTE_DAY: self._minute_chart_by_day,
                P_ORDER: self._order_cash,
                P_RVSECNCL: self._order_rvsecncl,
                P_BALANCE: self._inquire_balance,
                P_CCLD: self._inquire_daily_ccld,
            }[path]
            if request.method == "POST":
                params = await self._post_params(request)
            else:
                params = dict(request.query_params)
            self.queries.append((path, params))
            body, tr_cont = handler(account, params, request.headers.get("tr_cont", ""), tr_id)
        except _KisError as err:
            return self._error(err, tr_id)
        return self._answer(body, tr_id=tr_id, tr_cont=tr_cont)

    @staticmethod
    async def _post_params(request: Request) -> dict[str, str]:
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise _KisError("FAKE0003", "JSON 형식 오류입니다.", status=500) from exc
        if not isinstance(body, dict):
            raise _KisError("FAKE0003", "JSON 형식 오류입니다.", status=500)
        for key, value in body.items():
            if not isinstance(value, str):
                raise _KisError("FAKE0004", f"ERROR : INPUT_FIELD_TYPE {key} (string 이어야 함)")
        return body

    @staticmethod
    def _need(params: dict[str, str], *names: str) -> None:
        # The official samples refuse a blank required field before sending; so does the fake.
        for name in names:
            if not str(params.get(name, "")).strip():
                raise _KisError("OPSQ2001", f"ERROR : INPUT_FIELD_NAME {name}")

    def _check_account(self, account: FakeAccount, params: dict[str, str]) -> None:
        self._need(params, "CANO", "ACNT_PRDT_CD")
        if params["CANO"] != account.cano or params["ACNT_PRDT_CD"] != account.product:
            raise _KisError("OPSQ2000", "ERROR : INPUT INVALID_CHECK_ACNO")

    # ------------------------------------------------------------------ quotations

    def _quote(self, params: dict[str, str]) -> tuple[str, _Quote | None]:
        self._need(params, "FID_COND_MRKT_DIV_CODE", "FID_INPUT_ISCD")
        code = params["FID_INPUT_ISCD"]
        return code, self._quotes.get(code)

    def _limits(self, quote: _Quote) -> tuple[Decimal, Decimal]:
        upper = quote.base * Decimal("1.3")
        lower = quote.base * Decimal("0.7")
        up_tick, low_tick = tick_size(upper), tick_size(lower)
        upper = (upper / up_tick).to_integral_value(ROUND_FLOOR) * up_tick
        lower = (lower / low_tick).to_integral_value(ROUND_CEILING) * low_tick
        return upper, lower

    def _inquire_price(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        code, quote = self._quote(params)
        if quote is None:
            raise _KisError("FAKE1001", "종목코드를 확인하세요.")
        change = quote.price - quote.base
        sign = "2" if change > 0 else "5" if change < 0 else "3"
        upper, lower = self._limits(quote)
        rate = (change / quote.base * 100).quantize(Decimal("0.01")) if quote.base else Decimal(0)
        output = {
            "iscd_stat_cls_code": "55",
            "rprs_mrkt_kor_name": "KOSPI",
            "bstp_kor_isnm": "전기.전자",
            "temp_stop_yn": "N",
            "stck_prpr": _s(quote.price),
            "prdy_vrss": _s(change),
            "prdy_vrss_sign": sign,
            "prdy_ctrt": f"{rate:.2f}",
            "acml_tr_pbmn": _s(quote.turnover.to_integral_value()),
            "acml_vol": _s(quote.volume),
            "stck_oprc": _s(quote.open),
            "stck_hgpr": _s(quote.high),
            "stck_lwpr": _s(quote.low),
            "stck_mxpr": _s(upper),
            "stck_llam": _s(lower),
            "stck_sdpr": _s(quote.base),
            "aspr_unit": _s(tick_size(quote.price)),
            "stck_shrn_iscd": code,
            "hts_avls": "0",
            "per": "0.00",
            "pbr": "0.00",
            "eps": "0.00",
            "bps": "0.00",
            "w52_hgpr": _s(quote.high),
            "w52_lwpr": _s(quote.low),
            "mrkt_warn_cls_code": "00",
            "short_over_yn": "N",
        }
        return {**self._ok(), "output": output}, ""

    def _chart_summary(self, code: str) -> dict[str, str]:
        quote = self._quotes.get(code)
        price = _s(quote.price) if quote else "0"
        return {
            "stck_shrn_iscd": code,
            "hts_kor_isnm": self.names.get(code, f"종목{code}"),
            "stck_prpr": price,
            "stck_oprc": _s(quote.open) if quote else "0",
            "stck_hgpr": _s(quote.high) if quote else "0",
            "stck_lwpr": _s(quote.low) if quote else "0",
            "acml_vol": _s(quote.volume) if quote else "0",
            "stck_prdy_clpr": _s(quote.base) if quote else "0",
        }

    def _daily_chart(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._need(params, "FID_INPUT_DATE_1", "FID_INPUT_DATE_2", "FID_PERIOD_DIV_CODE")
        code, _ = self._quote(params)
        start, end = params["FID_INPUT_DATE_1"], params["FID_INPUT_DATE_2"]
        bars = sorted(self._daily_bars.get(code, {}).values(), key=lambda b: b[0], reverse=True)
        rows = [
            {
                "stck_bsop_date": d,
                "stck_clpr": _s(c),
                "stck_oprc": _s(o),
                "stck_hgpr": _s(h),
                "stck_lwpr": _s(low),
                "acml_vol": _s(v),
                "acml_tr_pbmn": _s((c * v).to_integral_value()),
                "flng_cls_code": "00",
                "prtt_rate": "0.00",
                "mod_yn": "N",
                "prdy_vrss_sign": "3",
                "prdy_vrss": "0",
                "revl_issu_reas": "",
            }
            for d, o, h, low, c, v in bars
            if start <= d <= end
        ][:100]
        return {**self._ok(), "output1": self._chart_summary(code), "output2": rows}, ""

    @staticmethod
    def _minute_row(bar: tuple[Any, ...]) -> dict[str, str]:
        d, t, o, h, low, c, v = bar
        return {
            "stck_bsop_date": d,
            "stck_cntg_hour": t,
            "stck_prpr": _s(c),
            "stck_oprc": _s(o),
            "stck_hgpr": _s(h),
            "stck_lwpr": _s(low),
            "cntg_vol": _s(v),
            "acml_tr_pbmn": _s((c * v).to_integral_value()),
        }

    def _minute_chart(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._need(params, "FID_INPUT_HOUR_1")
        code, _ = self._quote(params)
        bars = self._minute_bars.get(code, {})
        today = max((d for d, _ in bars), default="")
        hour = params["FID_INPUT_HOUR_1"]
        keys = sorted((k for k in bars if k[0] == today and k[1] <= hour), reverse=True)[:30]
        rows = [self._minute_row(bars[k]) for k in keys]
        return {**self._ok(), "output1": self._chart_summary(code), "output2": rows}, ""

    def _minute_chart_by_day(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._need(params, "FID_INPUT_HOUR_1", "FID_INPUT_DATE_1")
        code, _ = self._quote(params)
        bars = self._minute_bars.get(code, {})
        limit = (params["FID_INPUT_DATE_1"], params["FID_INPUT_HOUR_1"])
        keys = sorted((k for k in bars if k <= limit), reverse=True)[:120]
        rows = [self._minute_row(bars[k]) for k in keys]
        return {**self._ok(), "output1": self._chart_summary(code), "output2": rows}, ""

    # ------------------------------------------------------------------ orders

    def _new_odno(self) -> str:
        odno = f"{self._next_odno:010d}"
        self._next_odno += 1
        return odno

    def _open_buy_reservation(self, cano: str) -> Decimal:
        return sum(
            (
                o.price * o.remaining
                for o in self.orders
                if o.cano == cano and o.side == "02" and o.remaining > 0
            ),
            Decimal(0),
        )

    def _open_sell_qty(self, cano: str, code: str) -> int:
        return sum(
            o.remaining
            for o in self.orders
            if o.cano == cano and o.code == code and o.side == "01" and o.remaining > 0
        )

    @staticmethod
    def _parse_qty(text: str) -> int:
        if not text.isdigit() or int(text) <= 0:
            raise _KisError("FAKE2001", "주문수량을 확인하여 주십시오.")
        return int(text)

    @staticmethod
    def _parse_limit_price(text: str) -> Decimal:
        try:
            price = Decimal(text)
        except InvalidOperation as exc:
            raise _KisError("FAKE2002", "주문단가를 확인하여 주십시오.") from exc
        if price <= 0 or price != price.to_integral_value():
            raise _KisError("FAKE2002", "주문단가를 확인하여 주십시오.")
        if price % tick_size(price) != 0:
            raise _KisError("FAKE2003", "호가단위에 맞지 않는 주문단가입니다.")
        return price

    def _check_affordable(
        self, account: FakeAccount, side: str, code: str, qty: int, price: Decimal
    ) -> None:
        if side == "02":
            available = account.cash - self._open_buy_reservation(account.cano)
            if qty * price > available:
                raise _KisError("APBK0919", "주문가능금액을 초과 했습니다")
        else:
            held = account.positions.get(code, FakePosition()).qty
            if qty > held - self._open_sell_qty(account.cano, code):
                raise _KisError("APBK0986", "주문가능수량을 초과 했습니다")  # code not verified

    def _order_cash(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._check_account(account, params)
        self._need(params, "PDNO", "ORD_DVSN", "ORD_QTY", "ORD_UNPR", "EXCG_ID_DVSN_CD")
        side = "01" if "T" + tr_id[1:] in _SELL_TR_IDS else "02"
        code, ord_dvsn = params["PDNO"], params["ORD_DVSN"]
        if len(code) != 6:
            raise _KisError("FAKE2004", "종목코드를 확인하여 주십시오.")
        if ord_dvsn not in ("00", "01", IOC_LIMIT, IOC_MARKET):
            raise _KisError("FAKE2005", f"이 가짜 서버가 지원하지 않는 주문구분입니다: {ord_dvsn}")
        reject = self._reject_next
        if reject is not None and not reject[2]:
            self._reject_next = None
            raise _KisError(reject[0], reject[1])
        qty = self._parse_qty(params["ORD_QTY"])
        quote = self._quotes.get(code)
        if ord_dvsn in ("00", IOC_LIMIT):
            price = self._parse_limit_price(params["ORD_UNPR"])
            check_price = price
        else:
            if params["ORD_UNPR"] not in ("0", ""):
                raise _KisError("FAKE2006", "시장가 주문은 주문단가를 0으로 입력하십시오.")
            if quote is None:
                raise _KisError("FAKE2007", "현재가가 없어 시장가 주문을 받을 수 없습니다.")
            price, check_price = Decimal(0), quote.price
        self._check_affordable(account, side, code, qty, check_price)
        now = _kst_now()
        order = FakeOrder(
            odno=self._new_odno(),
            cano=account.cano,
            code=code,
            side=side,
            qty=qty,
            price=price,
            ord_dvsn=ord_dvsn,
            ord_dt=now.strftime("%Y%m%d"),
            ord_tmd=now.strftime("%H%M%S"),
            tr_id=tr_id,
        )
        self.orders.append(order)
        if reject is not None:  # venue-side rejection
            self._reject_next = None
            order.rejected = True
            self._push_notice(account, order, rejected=True)
        else:
            self._push_notice(account, order)
            if ord_dvsn in ("01", IOC_MARKET) and quote is not None:
                self._fill(order, qty, quote.price)
            elif ord_dvsn == IOC_LIMIT and quote is not None:
                crosses = price >= quote.price if side == "02" else price <= quote.price
                if crosses:
                    self._fill(order, qty, price)
            if ord_dvsn in (IOC_LIMIT, IOC_MARKET) and order.remaining > 0:
                # 즉시체결, 잔량취소: what did not trade at once is canceled by the venue.
                order.cancelled_qty += order.remaining
        output = {"KRX_FWDG_ORD_ORGNO": BRANCH, "ODNO": order.odno, "ORD_TMD": order.ord_tmd}
        return {**self._ok("주문 전송 완료 되었습니다.", "APBK0013"), "output": output}, ""

    def _order_rvsecncl(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._check_account(account, params)
        self._need(
            params,
            "KRX_FWDG_ORD_ORGNO",
            "ORGN_ODNO",
            "ORD_DVSN",
            "RVSE_CNCL_DVSN_CD",
            "ORD_QTY",
            "ORD_UNPR",
            "QTY_ALL_ORD_YN",
            "EXCG_ID_DVSN_CD",
        )
        if params["KRX_FWDG_ORD_ORGNO"] != BRANCH:  # code invented: not in the documents
            raise _KisError("FAKE3004", "한국거래소전송주문조직번호를 확인하여 주십시오.")
        target = params["ORGN_ODNO"].lstrip("0")
        original = next(
            (o for o in self.orders if o.cano == account.cano and o.odno.lstrip("0") == target),
            None,
        )
        if original is None:
            raise _KisError("FAKE3001", "원주문번호가 존재하지 않습니다.")
        if original.remaining <= 0:
            raise _KisError("FAKE3002", "정정/취소할 수량이 없습니다.")
        if params["QTY_ALL_ORD_YN"] == "Y":
            qty = original.remaining
        else:
            qty = self._parse_qty(params["ORD_QTY"])
            if qty > original.remaining:
                raise _KisError("FAKE3003", "정정/취소 가능수량을 초과하였습니다.")
        now = _kst_now()
        kind = params["RVSE_CNCL_DVSN_CD"]
        if kind == "02":
            cancel = FakeCancel(
                odno=self._new_odno(),
                orgn_odno=original.odno,
                cano=account.cano,
                code=original.code,
                side=original.side,
                qty=qty,
                ord_dt=now.strftime("%Y%m%d"),
                ord_tmd=now.strftime("%H%M%S"),
            )
            original.cancelled_qty += qty
            self.cancels.append(cancel)
            self._push_cancel_notice(account, original, cancel)
            odno, tmd = cancel.odno, cancel.ord_tmd
        elif kind == "01":
            self._need(params, "ORD_UNPR")
            price = self._parse_limit_price(params["ORD_UNPR"])
            if original.side == "02":
                extra = (price - original.price) * qty
                free = account.cash - self._open_buy_reservation(account.cano)
                if extra > free:
                    raise _KisError("APBK0919", "주문가능금액을 초과 했습니다")
            original.replaced_qty += qty
            modified = FakeOrder(
                odno=self._new_odno(),
                cano=account.cano,
                code=original.code,
                side=original.side,
                qty=qty,
                price=price,
                ord_dvsn="00",
                ord_dt=now.strftime("%Y%m%d"),
                ord_tmd=now.strftime("%H%M%S"),
                tr_id=tr_id,
                orgn_odno=original.odno,
            )
            self.orders.append(modified)
            self._push_notice(account, modified, rctf_cls="1")
            odno, tmd = modified.odno, modified.ord_tmd
        else:
            raise _KisError("FAKE3004", "정정취소구분코드를 확인하여 주십시오.")
        output = {"KRX_FWDG_ORD_ORGNO": BRANCH, "ODNO": odno, "ORD_TMD": tmd}
        return {**self._ok("주문 전송 완료 되었습니다.", "APBK0013"), "output": output}, ""

    def _fill(self, order: FakeOrder, qty: int, price: Decimal) -> None:
        account = next(a for a in self._accounts.values() if a.cano == order.cano)
        total = order.avg_price * order.filled_qty + price * qty
        order.filled_qty += qty
        order.avg_price = total / order.filled_qty
        position = account.positions.setdefault(order.code, FakePosition())
        if order.side == "02":
            cost = position.avg_price * position.qty + price * qty
            position.qty += qty
            position.avg_price = cost / position.qty
            position.bought_today += qty
            account.cash -= price * qty
        else:
            position.qty -= qty
            position.sold_today += qty
            account.cash += price * qty
            if position.qty == 0:
                position.avg_price = Decimal(0)
        self._push_notice(account, order, fill_qty=qty, fill_price=price)

    # ------------------------------------------------------------------ account inquiries

    @staticmethod
    def _page(params: dict[str, str], tr_cont: str, rows: list[Any], size: int) -> tuple[Any, ...]:
        """Slice ``rows`` the way KIS pages: offset kept in CTX_AREA_NK100, header tr_cont."""
        offset = 0
        context = params.get("CTX_AREA_NK100", "").strip()
        if tr_cont == "N" and context.isdigit():
            offset = int(context)
        chunk = rows[offset : offset + size]
        more = offset + size < len(rows)
        next_context = str(offset + size) if more else ""
        return chunk, next_context, "M" if more else "D"

    def _inquire_balance(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._check_account(account, params)
        rows = []
        scts = pchs_total = Decimal(0)
        for code in sorted(account.positions):
            pos = account.positions[code]
            if pos.qty == 0 and pos.bought_today == 0 and pos.sold_today == 0:
                continue
            quote = self._quotes.get(code)
            prpr = quote.price if quote else pos.avg_price
            pchs = (pos.avg_price * pos.qty).to_integral_value()
            evlu = prpr * pos.qty
            scts += evlu
            pchs_total += pchs
            pfls = evlu - pchs
            rate = (pfls / pchs * 100).quantize(Decimal("0.01")) if pchs else Decimal("0.00")
            rows.append(
                {
                    "pdno": code,
                    "prdt_name": self.names.get(code, f"종목{code}"),
                    "trad_dvsn_name": "현금",
                    "bfdy_buy_qty": "0",
                    "bfdy_sll_qty": "0",
                    "thdt_buyqty": _s(pos.bought_today),
                    "thdt_sll_qty": _s(pos.sold_today),
                    "hldg_qty": _s(pos.qty),
                    "ord_psbl_qty": _s(pos.qty - self._open_sell_qty(account.cano, code)),
                    "pchs_avg_pric": f"{pos.avg_price.quantize(Decimal('0.0001'))}",
                    "pchs_amt": _s(pchs),
                    "prpr": _s(prpr),
                    "evlu_amt": _s(evlu),
                    "evlu_pfls_amt": _s(pfls),
                    "evlu_pfls_rt": f"{rate:.2f}",
                    "evlu_erng_rt": f"{rate:.8f}",
                    "fltt_rt": "0.00000000",
                    "bfdy_cprs_icdc": "0",
                }
            )
        page, context, more = self._page(params, tr_cont, rows, 20 if self.paper else 50)
        cash = _s(account.cash)
        summary = {
            "dnca_tot_amt": cash,
            "nxdy_excc_amt": cash,
            "prvs_rcdl_excc_amt": cash,
            "cma_evlu_amt": "0",
            "thdt_buy_amt": "0",
            "thdt_sll_amt": "0",
            "thdt_tlex_amt": "0",
            "scts_evlu_amt": _s(scts),
            "tot_evlu_amt": _s(account.cash + scts),
            "nass_amt": _s(account.cash + scts),
            "pchs_amt_smtl_amt": _s(pchs_total),
            "evlu_amt_smtl_amt": _s(scts),
            "evlu_pfls_smtl_amt": _s(scts - pchs_total),
            "bfdy_tot_asst_evlu_amt": _s(account.cash + scts),
            "asst_icdc_amt": "0",
        }
        body = {
            **self._ok("조회가 완료되었습니다."),
            "ctx_area_fk100": context,
            "ctx_area_nk100": context,
            "output1": page,
            "output2": [summary],
        }
        return body, more

    def _ccld_rows(self, account: FakeAccount) -> list[tuple[str, dict[str, str]]]:
        rows: list[tuple[str, dict[str, str]]] = []
        for o in self.orders:
            if o.cano != account.cano:
                continue
            amount = (o.avg_price * o.filled_qty).to_integral_value()
            rows.append(
                (
                    o.odno,
                    {
                        "ord_dt": o.ord_dt,
                        "ord_gno_brno": BRANCH if self.list_branches else "",
                        "odno": o.odno,
                        "orgn_odno": o.orgn_odno,
                        "ord_dvsn_name": "지정가" if o.ord_dvsn == "00" else "시장가",
                        "sll_buy_dvsn_cd": o.side,
                        "sll_buy_dvsn_cd_name": "매도" if o.side == "01" else "매수",
                        "pdno": o.code,
                        "prdt_name": self.names.get(o.code, f"종목{o.code}"),
                        "ord_qty": _s(o.qty),
                        "ord_unpr": _s(o.price),
                        "ord_tmd": o.ord_tmd,
                        "tot_ccld_qty": _s(o.filled_qty),
                        "avg_prvs": _s(o.avg_price.to_integral_value()),
                        "cncl_yn": "N",
                        "tot_ccld_amt": _s(amount),
                        "loan_dt": "",
                        "ord_dvsn_cd": o.ord_dvsn,
                        "cnc_cfrm_qty": _s(o.cancelled_qty),
                        "rmn_qty": _s(o.remaining),
                        "rjct_qty": _s(o.qty if o.rejected else 0),
                        "ccld_cndt_name": "없음",
                        "infm_tmd": "",
                        "ctac_tlno": "",
                        "prdt_type_cd": "300",
                        "excg_dvsn_cd": "01",
                        "excg_id_dvsn_cd": "KRX",
                    },
                )
            )
        for c in self.cancels:
            if c.cano != account.cano:
                continue
            rows.append(
                (
                    c.odno,
                    {
                        "ord_dt": c.ord_dt,
                        "ord_gno_brno": BRANCH if self.list_branches else "",
                        "odno": c.odno,
                        "orgn_odno": c.orgn_odno,
                        "ord_dvsn_name": "취소",
                        "sll_buy_dvsn_cd": c.side,
                        "sll_buy_dvsn_cd_name": "매도취소" if c.side == "01" else "매수취소",
                        "pdno": c.code,
                        "prdt_name": self.names.get(c.code, f"종목{c.code}"),
                        "ord_qty": _s(c.qty),
                        "ord_unpr": "0",
                        "ord_tmd": c.ord_tmd,
                        "tot_ccld_qty": "0",
                        "avg_prvs": "0",
                        "cncl_yn": "Y",
                        "tot_ccld_amt": "0",
                        "loan_dt": "",
                        "ord_dvsn_cd": "00",
                        "cnc_cfrm_qty": _s(c.qty),
                        "rmn_qty": "0",
                        "rjct_qty": "0",
                        "ccld_cndt_name": "없음",
                        "infm_tmd": "",
                        "ctac_tlno": "",
                        "prdt_type_cd": "300",
                        "excg_dvsn_cd": "01",
                        "excg_id_dvsn_cd": "KRX",
                    },
                )
            )
        return rows

    def _inquire_daily_ccld(
        self, account: FakeAccount, params: dict[str, str], tr_cont: str, tr_id: str
    ) -> tuple[dict[str, Any], str]:
        self._check_account(account, params)
        self._need(
            params,
            "INQR_STRT_DT",
            "INQR_END_DT",
            "SLL_BUY_DVSN_CD",
            "CCLD_DVSN",
            "INQR_DVSN",
            "INQR_DVSN_3",
        )
        start, end = params["INQR_STRT_DT"], params["INQR_END_DT"]
        side, ccld = params["SLL_BUY_DVSN_CD"], params["CCLD_DVSN"]
        pdno, odno = params.get("PDNO", ""), params.get("ODNO", "").lstrip("0")
        selected = []
        for key, row in self._ccld_rows(account):
            if not start <= row["ord_dt"] <= end:
                continue
            if side in ("01", "02") and row["sll_buy_dvsn_cd"] != side:
                continue
            if pdno and row["pdno"] != pdno:
                continue
            if odno and row["odno"].lstrip("0") != odno:
                continue
            if ccld == "01" and row["tot_ccld_qty"] == "0":
                continue
            if ccld == "02" and row["rmn_qty"] == "0":
                continue
            selected.append((row["ord_dt"], key, row))
        selected.sort(key=lambda r: (r[0], r[1]), reverse=params.get("INQR_DVSN", "00") == "00")
        rows = [r[2] for r in selected]
        page, context, more = self._page(params, tr_cont, rows, 15 if self.paper else 100)
        summary = {
            "tot_ord_qty": _s(sum(int(r["ord_qty"]) for r in rows)),
            "tot_ccld_qty": _s(sum(int(r["tot_ccld_qty"]) for r in rows)),
            "tot_ccld_amt": _s(sum(int(r["tot_ccld_amt"]) for r in rows)),
            "prsm_tlex_smtl": "0",
            "pchs_avg_pric": "0.0000",
        }
        body = {
            **self._ok("조회가 완료되었습니다."),
            "ctx_area_fk100": context,
            "ctx_area_nk100": context,
            "output1": page,
            "output2": summary,
        }
        return body, more

    # ------------------------------------------------------------------ websocket

    def _notice_tr_id(self) -> str:
        return "H0STCNI9" if self.paper else "H0STCNI0"

    def _ws_tr_ids(self) -> set[str]:
        common = {"H0STCNT0", "H0STASP0"}
        if self.paper:
            return common | {"H0STCNI9"}
        return common | {"H0STCNI0", "H0UNCNT0", "H0NXCNT0", "H0STANC0", "H0STMKO0"}

    @staticmethod
    def _ack(
        tr_id: str,
        tr_key: str,
        rt_cd: str,
        msg_cd: str,
        msg1: str,
        *,
        encrypt: str = "N",
        output: dict[str, str] | None = None,
    ) -> str:
        body: dict[str, Any] = {"rt_cd": rt_cd, "msg_cd": msg_cd, "msg1": msg1}
        if output is not None:
            body["output"] = output
        header = {"tr_id": tr_id, "tr_key": tr_key, "encrypt": encrypt}
        return json.dumps({"header": header, "body": body}, ensure_ascii=False)

    def _abort_session(self, session: _WsSession) -> None:
        self._sessions.discard(session)
        if session.approval_key is not None:
            self.ws_subscriptions.pop(session.approval_key, None)
        if session.transport is not None:
            session.transport.abort()

    async def _websocket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        session = _WsSession(websocket, websocket.scope.get("fakekis.transport"))
        session.aes_key = _random_text(32)
        session.aes_iv = _random_text(16)
        self._sessions.add(session)
        sender = asyncio.create_task(self._ws_sender(session))
        pinger = asyncio.create_task(self._ws_pinger(session))
        try:
            while True:
                text = await websocket.receive_text()
                if not await self._ws_handle(session, text):
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            pinger.cancel()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
            if session in self._sessions:
                self._sessions.discard(session)
                if session.approval_key is not None:
                    self.ws_subscriptions.pop(session.approval_key, None)

    async def _ws_sender(self, session: _WsSession) -> None:
        with contextlib.suppress(Exception):
            while True:
                await session.websocket.send_text(await session.queue.get())

    async def _ws_pinger(self, session: _WsSession) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            stamp = _kst_now().strftime("%Y%m%d%H%M%S")
            session.queue.put_nowait(
                json.dumps({"header": {"tr_id": "PINGPONG", "datetime": stamp}})
            )

    async def _ws_handle(self, session: _WsSession, text: str) -> bool:
        """Handle one client frame; False means the server closes the connection."""
        parsed = self._parse_ws_frame(text)
        if parsed is None:  # a PINGPONG echo
            self.pongs += 1
            return True
        if isinstance(parsed, str):
            session.queue.put_nowait(parsed)
            return True
        approval, tr_type, tr_id, tr_key = parsed
        app_key = self._approvals.get(approval)
        if app_key is None:
            session.queue.put_nowait(
                self._ack(tr_id, tr_key, "1", "OPSP0011", f"invalid approval : {approval}")
            )
            return True
        in_use = self._ack("(null)", "", "9", "OPSP8996", "ALREADY IN USE appkey")
        if session.app_key is None:
            if any(s.app_key == app_key for s in self._sessions if s is not session):
                # KIS allows one session per app key and drops the newcomer.
                await session.websocket.send_text(in_use)
                await session.websocket.close()
                return False
            session.app_key, session.approval_key = app_key, approval
            self.ws_subscriptions[approval] = session.subscriptions
        elif app_key != session.app_key:
            session.queue.put_nowait(in_use)
            return True
        session.queue.put_nowait(self._subscribe(session, tr_type, tr_id, tr_key))
        return True

    def _parse_ws_frame(self, text: str) -> tuple[str, str, str, str] | str | None:
        """(approval_key, tr_type, tr_id, tr_key), an error ack to send, or None for PINGPONG."""
        try:
            frame = json.loads(text)
            header = frame["header"]
            if header.get("tr_id") == "PINGPONG":
                return None
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._ack("", "", "9", "FAKE9001", "JSON PARSING ERROR : invalid json format")
        try:
            inp = frame["body"]["input"]
            tr_id, tr_key = str(inp["tr_id"]), str(inp["tr_key"])
        except (KeyError, TypeError):
            return self._ack("", "", "9", "FAKE9002", "INVALID INPUT : body.input.tr_id/tr_key")
        return str(header.get("approval_key", "")), str(header.get("tr_type")), tr_id, tr_key

    def _subscribe(self, session: _WsSession, tr_type: str, tr_id: str, tr_key: str) -> str:
        if tr_id not in self._ws_tr_ids():
            return self._ack(tr_id, tr_key, "1", "FAKE9003", f"invalid tr_id : {tr_id}")
        if tr_type == "1":
            return self._register(session, tr_id, tr_key)
        if tr_type == "2":
            return self._unregister(session, tr_id, tr_key)
        return self._ack(tr_id, tr_key, "1", "FAKE9004", f"invalid tr_type : {tr_type}")

    def _register(self, session: _WsSession, tr_id: str, tr_key: str) -> str:
        item = (tr_id, tr_key)
        if item in session.subscriptions:
            return self._ack(tr_id, tr_key, "1", "OPSP0002", "ALREADY IN SUBSCRIBE")
        if len(session.subscriptions) >= self.ws_max_subscriptions:
            return self._ack(tr_id, tr_key, "1", "OPSP0008", "MAX SUBSCRIBE OVER")
        session.subscriptions.add(item)
        if tr_id in ("H0STCNI0", "H0STCNI9"):
            output = {"iv": session.aes_iv, "key": session.aes_key}
            return self._ack(
                tr_id, tr_key, "0", "OPSP0000", "SUBSCRIBE SUCCESS", encrypt="Y", output=output
            )
        return self._ack(tr_id, tr_key, "0", "OPSP0000", "SUBSCRIBE SUCCESS")

    def _unregister(self, session: _WsSession, tr_id: str, tr_key: str) -> str:
        item = (tr_id, tr_key)
        encrypt = "Y" if tr_id in ("H0STCNI0", "H0STCNI9") else "N"
        if item not in session.subscriptions:
            return self._ack(tr_id, tr_key, "1", "OPSP0003", "UNSUBSCRIBE ERROR(not found!)")
        session.subscriptions.discard(item)
        return self._ack(tr_id, tr_key, "0", "OPSP0001", "UNSUBSCRIBE SUCCESS", encrypt=encrypt)

    def _push_trade(self, code: str, quote: _Quote) -> None:
        targets = [s for s in self._sessions if ("H0STCNT0", code) in s.subscriptions]
        if not targets:
            return
        now = _kst_now()
        change = quote.price - quote.base
        sign = "2" if change > 0 else "5" if change < 0 else "3"
        rate = (change / quote.base * 100).quantize(Decimal("0.01")) if quote.base else Decimal(0)
        values = dict.fromkeys(TRADE_COLUMNS, "0")
        values.update(
            MKSC_SHRN_ISCD=code,
            STCK_CNTG_HOUR=now.strftime("%H%M%S"),
            STCK_PRPR=_s(quote.price),
            PRDY_VRSS_SIGN=sign,
            PRDY_VRSS=_s(change),
            PRDY_CTRT=f"{rate:.2f}",
            WGHN_AVRG_STCK_PRC=_s(quote.price),
            STCK_OPRC=_s(quote.open),
            STCK_HGPR=_s(quote.high),
            STCK_LWPR=_s(quote.low),
            ASKP1=_s(quote.price + tick_size(quote.price)),
            BIDP1=_s(quote.price),
            CNTG_VOL=_s(quote.last_volume),
            ACML_VOL=_s(quote.volume),
            ACML_TR_PBMN=_s(quote.turnover.to_integral_value()),
            CCLD_DVSN="1",
            BSOP_DATE=now.strftime("%Y%m%d"),
            NEW_MKOP_CLS_CODE="20",
            TRHT_YN="N",
            MRKT_TRTM_CLS_CODE="",
        )
        frame = "0|H0STCNT0|001|" + "^".join(values[c] for c in TRADE_COLUMNS)
        for session in targets:
            session.queue.put_nowait(frame)

    def _push_book(self, code: str, quote: _Quote) -> None:
        """A 10-level book around the last price: asks from one tick up, bids from it down."""
        targets = [s for s in self._sessions if ("H0STASP0", code) in s.subscriptions]
        if not targets:
            return
        values = dict.fromkeys(BOOK_COLUMNS, "0")
        values.update(MKSC_SHRN_ISCD=code, BSOP_HOUR=_kst_now().strftime("%H%M%S"))
        ask = bid = quote.price
        for level in range(1, 11):
            ask += tick_size(ask)
            values[f"ASKP{level}"] = _s(ask)
            values[f"BIDP{level}"] = _s(bid)
            values[f"ASKP_RSQN{level}"] = str(100 * level)
            values[f"BIDP_RSQN{level}"] = str(90 * level)
            bid -= tick_size(bid - 1)
        frame = "0|H0STASP0|001|" + "^".join(values[c] for c in BOOK_COLUMNS)
        for session in targets:
            session.queue.put_nowait(frame)

    def _notice_targets(self, account: FakeAccount) -> list[_WsSession]:
        item = (self._notice_tr_id(), account.hts_id)
        return [s for s in self._sessions if item in s.subscriptions]

    def trade(self, code: str, price: Decimal, qty: int) -> None:
        """The market trades ``qty`` at ``price``: resting limits that cross fill up to that."""
        self.set_price(code, price, volume=qty, fill=False)
        left = qty
        for order in list(self.orders):
            if left <= 0:
                break
            if order.code != code or order.remaining <= 0 or order.ord_dvsn != "00":
                continue
            if order.price >= price if order.side == "02" else order.price <= price:
                take = min(order.remaining, left)
                self._fill(order, take, order.price)
                left -= take

    def fill(self, odno: str, qty: int, price: Decimal | None = None) -> None:
        """Execute ``qty`` of a resting order (a partial fill), at its limit by default."""
        order = next(o for o in self.orders if o.odno == odno)
        self._fill(order, min(qty, order.remaining), order.price if price is None else price)

    def hold_notices(self) -> None:
        """Keep notices back (a stalled socket) until ``release_notices``."""
        self._held_notices = []

    def release_notices(self) -> None:
        held, self._held_notices = self._held_notices, None
        for account, values in held or []:
            self._send_notice(account, values)

    def _send_notice(self, account: FakeAccount, values: dict[str, str]) -> None:
        if self._held_notices is not None:
            self._held_notices.append((account, values))
            return
        plain = "^".join(values.get(c, "") for c in NOTICE_COLUMNS)
        for session in self._notice_targets(account):
            cipher = aes_encrypt(session.aes_key, session.aes_iv, plain)
            session.queue.put_nowait(f"1|{self._notice_tr_id()}|001|{cipher}")

    def _notice_base(self, account: FakeAccount, order_code: str) -> dict[str, str]:
        return {
            "CUST_ID": account.hts_id,
            "ACNT_NO": account.acnt_no,
            "ODER_COND": "0",
            "STCK_SHRN_ISCD": order_code,
            "STCK_CNTG_HOUR": _kst_now().strftime("%H%M%S"),
            "RFUS_YN": "0",
            "BRNC_NO": BRANCH,
            "ACNT_NAME": "테스트",
            "ORD_EXG_GB": "1",
            "POPUP_YN": "N",
            "CRDT_CLS": "10",
            "CNTG_ISNM40": self.names.get(order_code, f"종목{order_code}"),
        }

    def _push_notice(
        self,
        account: FakeAccount,
        order: FakeOrder,
        *,
        fill_qty: int = 0,
        fill_price: Decimal = Decimal(0),
        rejected: bool = False,
        rctf_cls: str = "0",
    ) -> None:
        """Acceptance (CNTG_YN 1, ACPT_YN 1), fill (CNTG_YN 2) or rejection (RFUS_YN 1)."""
        values = self._notice_base(account, order.code)
        values.update(
            ODER_NO=order.odno,
            OODER_NO=order.orgn_odno,
            SELN_BYOV_CLS=order.side,
            RCTF_CLS=rctf_cls,
            ODER_KIND=order.ord_dvsn,
            ODER_QTY=_s(order.qty),
            ODER_PRC=_s(order.price),
        )
        if fill_qty:
            values.update(CNTG_QTY=_s(fill_qty), CNTG_UNPR=_s(fill_price), CNTG_YN="2", ACPT_YN="2")
        else:
            # pykis reads the ordered quantity from CNTG_QTY on an acceptance notice.
            values.update(CNTG_QTY=_s(order.qty), CNTG_UNPR="0", CNTG_YN="1", ACPT_YN="1")
            if rejected:
                values["RFUS_YN"] = "1"
        self._send_notice(account, values)

    def _push_cancel_notice(
        self, account: FakeAccount, original: FakeOrder, cancel: FakeCancel
    ) -> None:
        values = self._notice_base(account, original.code)
        values.update(
            ODER_NO=cancel.odno,
            OODER_NO=original.odno,
            SELN_BYOV_CLS=original.side,
            RCTF_CLS="2",
            ODER_KIND=original.ord_dvsn,
            CNTG_QTY=_s(cancel.qty),
            CNTG_UNPR="0",
            CNTG_YN="1",
            ACPT_YN="2",
            ODER_QTY=_s(cancel.qty),
            ODER_PRC=_s(original.price),
        )
        self._send_notice(account, values)
