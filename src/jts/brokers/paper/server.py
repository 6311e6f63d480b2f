"""The paper venue as a service: the matching engine behind an HTTP API, like a broker's.

Run by ``jts serve paper-venue``. Order execution reaches it only over HTTP
(``remote.py``), so a crash of order execution leaves the venue's record of
orders intact, and what happens next is what happens with a real broker:
reconciliation, never a blind resend. Execution reports go into a journal with
a sequence number; clients long-poll ``/reports?after=N`` and resume from their
last number after a disconnect, so no report is lost or delivered out of order.

Every endpoint but ``/health`` (live, nothing else) wants ``Authorization: Bearer
<token>``, and a weak token is refused when the API is built. Bad input
is a 4xx with a ``detail`` that says what was wrong.
"""

from __future__ import annotations

import asyncio
import hmac
from collections import Counter
from typing import Annotated

from fastapi import APIRouter
from fastapi import Depends
from fastapi import FastAPI
from fastapi import Header
from fastapi import HTTPException
from fastapi import Query
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jts.brokers.paper.execution import PaperExecutionClient
from jts.brokers.paper.execution import status_report
from jts.brokers.paper.schemas import AccountOut
from jts.brokers.paper.schemas import FillOut
from jts.brokers.paper.schemas import OrderChangeIn
from jts.brokers.paper.schemas import OrderIn
from jts.brokers.paper.schemas import OrderOut
from jts.brokers.paper.schemas import ReportOut
from jts.brokers.paper.schemas import ReportPage
from jts.domain.errors import ConfigurationError
from jts.domain.errors import DomainError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import UnknownOrder
from jts.domain.reports import ExecutionReport
from jts.domain.secrets import weak_secret_reason

MAX_WAIT = 30.0
MAX_PAGE = 5_000


class ReportJournal:
    """Every execution report the venue produced, numbered from 1, with waiters woken on append."""

    def __init__(self) -> None:
        self._reports: list[ReportOut] = []
        self._grown = asyncio.Event()

    @property
    def head(self) -> int:
        return len(self._reports)

    async def append(self, report: ExecutionReport) -> None:
        self._reports.append(ReportOut.of(len(self._reports) + 1, report))
        self._grown.set()
        self._grown = asyncio.Event()

    async def after(self, seq: int, wait: float) -> list[ReportOut]:
        if seq >= self.head and wait > 0:
            grown = self._grown
            try:
                await asyncio.wait_for(grown.wait(), wait)
            except TimeoutError:
                return []
        return self._reports[max(0, seq) : max(0, seq) + MAX_PAGE]


def build_venue_api(venue: PaperExecutionClient, *, token: str) -> FastAPI:
    """The venue's API; refuses to exist with a weak token (it trades for whoever holds it)."""
    reason = weak_secret_reason(token)
    if reason is not None:
        raise ConfigurationError(f"paper venue: the bearer token is too weak ({reason})")
    api = FastAPI(title="jts paper venue", docs_url=None, redoc_url=None, openapi_url=None)
    journal = ReportJournal()
    submissions: Counter[str] = Counter()
    venue.set_report_handler(journal.append)
    api.state.journal = journal
    api.state.submissions = submissions

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token")

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        return JSONResponse({"detail": problems}, status_code=422)

    @api.get("/health")
    async def health() -> dict[str, object]:
        return {"service": "paper-venue", "live": True}

    secured = APIRouter(dependencies=[Depends(authorised)])
    _order_routes(secured, venue, submissions)
    _modify_route(secured, venue, submissions)
    _account_routes(secured, venue, journal)
    api.include_router(secured)
    return api


def _order_routes(
    router: APIRouter, venue: PaperExecutionClient, submissions: Counter[str]
) -> None:
    def order_out(client_order_id: str) -> OrderOut:
        order = venue.engine.order(client_order_id)
        if order is None:
            raise HTTPException(404, f"no order {client_order_id}")
        return OrderOut.of(status_report(order), submissions[client_order_id])

    @router.post("/orders", status_code=201)
    async def submit(order: OrderIn) -> OrderOut:
        submissions[order.client_order_id] += 1
        try:
            await venue.submit_order(order.to_order())
        except DomainError as exc:
            raise HTTPException(422, str(exc)) from None
        return order_out(order.client_order_id)

    @router.delete("/orders/{client_order_id}")
    async def cancel(client_order_id: str) -> OrderOut:
        order = venue.engine.order(client_order_id)
        if order is None:
            raise HTTPException(404, f"no order {client_order_id}")
        try:
            await venue.cancel_order(order)
        except UnknownOrder as exc:
            raise HTTPException(404, str(exc)) from None
        except DomainError as exc:
            raise HTTPException(409, str(exc)) from None
        return order_out(client_order_id)

    @router.get("/orders/{client_order_id}")
    async def query(client_order_id: str) -> OrderOut:
        return order_out(client_order_id)

    @router.get("/orders")
    async def orders(open: bool = False) -> list[OrderOut]:
        chosen = venue.engine.open_orders() if open else venue.engine.orders()
        return [OrderOut.of(status_report(o), submissions[o.client_order_id]) for o in chosen]


def _modify_route(
    router: APIRouter, venue: PaperExecutionClient, submissions: Counter[str]
) -> None:
    @router.patch("/orders/{client_order_id}")
    async def modify(client_order_id: str, change: OrderChangeIn) -> OrderOut:
        # 422: the change breaks a rule (off the ladder, more shares, nothing changed);
        # 409: the order is no longer working. Either way the order stands as it was.
        order = venue.engine.order(client_order_id)
        if order is None:
            raise HTTPException(404, f"no order {client_order_id}")
        if not order.is_open:
            raise HTTPException(
                409, f"{client_order_id}: cannot modify an order that is {order.status}"
            )
        try:
            await venue.modify_order(order, price=change.price, quantity=change.quantity)
        except UnknownOrder as exc:
            raise HTTPException(404, str(exc)) from None
        except InvalidOrder as exc:
            raise HTTPException(422, str(exc)) from None
        except DomainError as exc:
            raise HTTPException(409, str(exc)) from None
        return OrderOut.of(status_report(order), submissions[client_order_id])


def _account_routes(router: APIRouter, venue: PaperExecutionClient, journal: ReportJournal) -> None:
    @router.get("/fills")
    async def fills(since_ns: Annotated[int, Query(ge=0)] = 0) -> list[FillOut]:
        return [FillOut.of(f) for f in await venue.fills(since_ns)]

    @router.get("/account")
    async def account() -> AccountOut:
        return AccountOut.of(await venue.account())

    @router.get("/reports")
    async def reports(
        after: Annotated[int, Query(ge=0)] = 0,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0.0,
    ) -> ReportPage:
        return ReportPage(reports=await journal.after(after, wait), head=journal.head)
