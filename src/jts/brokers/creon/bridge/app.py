"""The bridge's REST API: market data, orders, balance and a long-polled fill journal.

Every path wants ``Authorization: Bearer <secret>`` (compared in constant
time), checked before routing, so the OpenAPI schema (``/openapi.json``) and
unknown paths are refused alike; a weak secret is refused when the app is
built. Errors are JSON ``{"detail", "code", "sent"}``: ``detail`` carries
Creon's own message (``GetDibMsg1``) or the COM error text where there is one,
``code`` is stable for the adapter, ``sent`` says whether the request reached
Creon. 429 comes with ``Retry-After``; 503 means Creon is not connected or
trading is not initialised, and that nothing was sent.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import FastAPI
from fastapi import Query
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from jts.brokers.creon.bridge import errors
from jts.brokers.creon.bridge.com import ComFactory
from jts.brokers.creon.bridge.errors import BridgeError
from jts.brokers.creon.bridge.service import PAGE_WAIT
from jts.brokers.creon.bridge.service import CreonBridge
from jts.brokers.creon.schemas import BalanceOut
from jts.brokers.creon.schemas import BarsOut
from jts.brokers.creon.schemas import CancelOut
from jts.brokers.creon.schemas import EventPage
from jts.brokers.creon.schemas import FillOut
from jts.brokers.creon.schemas import HealthOut
from jts.brokers.creon.schemas import InstrumentOut
from jts.brokers.creon.schemas import ModifyIn
from jts.brokers.creon.schemas import ModifyOut
from jts.brokers.creon.schemas import OrderAck
from jts.brokers.creon.schemas import OrderIn
from jts.brokers.creon.schemas import OrderOut
from jts.brokers.creon.schemas import QuoteOut
from jts.domain.secrets import weak_secret_reason

MAX_WAIT = 30.0
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def build_bridge_app(
    com_factory: ComFactory,
    secret: str,
    *,
    account: str | None = None,
    state_path: Path | None = None,
    max_wait: float = 3.0,
    page_wait: float = PAGE_WAIT,
    bridge: CreonBridge | None = None,
) -> FastAPI:
    """The app; the COM thread starts and stops with the app's lifespan."""
    reason = weak_secret_reason(secret)
    if reason is not None:
        raise ValueError(f"the bridge needs a strong shared secret: {reason}")
    creon = bridge or CreonBridge(
        com_factory,
        account=account,
        state_path=state_path,
        max_wait=max_wait,
        page_wait=page_wait,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await creon.start()
        try:
            yield
        finally:
            await creon.stop()

    # The schema is served (behind the secret); the browser pages could not send it.
    api = FastAPI(title="jts creon bridge", docs_url=None, redoc_url=None, lifespan=lifespan)
    api.state.bridge = creon
    api.add_middleware(_RequireSecret, expected=secret.encode())

    @api.exception_handler(BridgeError)
    async def bridge_error(request: Request, exc: BridgeError) -> JSONResponse:
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            {"detail": exc.detail, "code": exc.code, "sent": exc.sent},
            status_code=exc.status,
            headers=headers,
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        return JSONResponse(
            {"detail": problems, "code": errors.INVALID, "sent": False}, status_code=422
        )

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(
            {"detail": str(exc.detail), "code": code, "sent": False},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @api.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        # Not a COM failure (those are BridgeErrors from the COM thread) but a bug on the
        # loop side; whether Creon acted is not known, so it is reported as possibly sent.
        return JSONResponse(
            {"detail": f"{type(exc).__name__}: {exc}", "code": errors.INTERNAL, "sent": True},
            status_code=500,
        )

    router = APIRouter()
    _market_routes(router, creon)
    _order_routes(router, creon)
    api.include_router(router)
    return api


class _RequireSecret:
    """ASGI middleware: every HTTP request and websocket needs the bearer secret."""

    def __init__(self, app: ASGIApp, expected: bytes) -> None:
        self._app = app
        self._expected = expected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or self._allowed(scope):
            await self._app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        refusal = JSONResponse(
            {
                "detail": "missing or wrong bearer secret",
                "code": errors.UNAUTHORIZED,
                "sent": False,
            },
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await refusal(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value
        scheme, _, given = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given, self._expected)


def _market_routes(router: APIRouter, creon: CreonBridge) -> None:
    @router.get("/health")
    async def health() -> HealthOut:
        return await creon.health()

    @router.get("/instruments")
    async def instruments() -> list[InstrumentOut]:
        return await creon.instruments()

    @router.get("/quotes/{code}")
    async def quote(code: str) -> QuoteOut:
        return await creon.quote(code)

    @router.get("/bars/{code}")
    async def bars(
        code: str,
        timeframe: str,
        start: Annotated[int, Query(ge=0)],
        end: Annotated[int, Query(ge=0)],
    ) -> BarsOut:
        return BarsOut(
            code=code, timeframe=timeframe, bars=await creon.bars(code, timeframe, start, end)
        )


def _order_routes(router: APIRouter, creon: CreonBridge) -> None:
    @router.post("/orders", status_code=201)
    async def place(order: OrderIn) -> OrderAck:
        return await creon.place(order)

    @router.post("/orders/{order_no}/modify")
    async def modify(order_no: str, change: ModifyIn) -> ModifyOut:
        return await creon.modify(order_no, change)

    @router.delete("/orders/{order_no}")
    async def cancel(
        order_no: str,
        code: str | None = None,
        quantity: Annotated[int, Query(ge=0)] = 0,
    ) -> CancelOut:
        return await creon.cancel(order_no, code, quantity)

    @router.get("/orders")
    async def orders(open: bool = False) -> list[OrderOut]:
        return await (creon.open_orders() if open else creon.today_orders())

    @router.get("/fills")
    async def fills(since_ns: Annotated[int, Query(ge=0)] = 0) -> list[FillOut]:
        return creon.fills(since_ns)

    @router.get("/balance")
    async def balance() -> BalanceOut:
        return await creon.balance()

    @router.get("/events")
    async def events(
        after: Annotated[int, Query(ge=0)] = 0,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0.0,
    ) -> EventPage:
        return EventPage(events=await creon.journal.after(after, wait), head=creon.journal.head)
