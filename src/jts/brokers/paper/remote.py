"""``ExecutionClient`` for the paper venue service (``server.py``), over HTTP.

Errors are translated in one place (``_call``): no answer (refused, reset, timed
out) or a 5xx is ``BrokerUnavailable``, 401/403 ``AuthenticationFailed``, 404
``UnknownOrder``, other 4xx ``OrderRejectedByVenue`` with the venue's reason (a
modify's 422, a change the venue's rules forbid, is ``InvalidOrder``: nothing
changed there, and the same change will never be accepted). A
submit that got no answer may still have reached the venue: the caller marks the
order UNKNOWN and reconciles, so this client never retries a submit itself.

Reports arrive by long-polling the venue's journal from the last sequence number
seen; after an outage the poller resumes where it stopped, so reports come once
and in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from typing import TypeVar

import httpx
from pydantic import TypeAdapter
from pydantic import ValidationError

from jts.brokers.paper.schemas import AccountOut
from jts.brokers.paper.schemas import FillOut
from jts.brokers.paper.schemas import OrderChangeIn
from jts.brokers.paper.schemas import OrderIn
from jts.brokers.paper.schemas import OrderOut
from jts.brokers.paper.schemas import ReportPage
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerError
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import ConfigurationError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import UnknownOrder
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import OrderStatusReport
from jts.domain.secrets import weak_secret_reason
from jts.ports.brokers import ReportHandler

log = logging.getLogger("jts.brokers.paper.remote")

_ORDERS = TypeAdapter(list[OrderOut])
_FILLS = TypeAdapter(list[FillOut])
_MAX_BACKOFF = 5.0
T = TypeVar("T")


class RemotePaperExecutionClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        venue: str = "paper",
        poll_wait: float = 10.0,
        timeout: float = 5.0,
        after_seq: int = 0,
    ) -> None:
        reason = weak_secret_reason(token)
        if reason is not None:
            raise ConfigurationError(
                f"{venue}: the paper venue token is unusable ({reason}); set JTS_SERVE__TOKEN "
                "to the token the venue serves with"
            )
        self.venue = venue
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._poll_wait = poll_wait
        self._timeout = timeout
        self.last_seq = after_seq
        self._handler: ReportHandler | None = None
        self._http: httpx.AsyncClient | None = None
        self._poller: asyncio.Task[None] | None = None
        # The poller and catch_up hand reports over one at a time, each seq once.
        self._handing = asyncio.Lock()

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    async def connect(self) -> None:
        if self._http is not None:
            return
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=self._timeout,
        )
        self._poller = asyncio.create_task(self._poll(), name=f"{self.venue}-reports")

    async def disconnect(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- the port --------------------------------------------------------------------------

    async def submit_order(self, order: Order) -> None:
        body = OrderIn.of(order).model_dump(mode="json")
        await self._call("POST", "/orders", json=body)

    async def cancel_order(self, order: Order) -> None:
        await self._call("DELETE", f"/orders/{order.client_order_id}")

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        """PATCH the order; the venue's report (new terms, new venue id) comes by the journal."""
        order.check_amendment(price, quantity)
        body = OrderChangeIn(price=price, quantity=quantity).model_dump(
            mode="json", exclude_none=True
        )
        await self._call(
            "PATCH", f"/orders/{order.client_order_id}", json=body, invalid=InvalidOrder
        )

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None:
        try:
            answer = await self._call("GET", f"/orders/{client_order_id}")
        except UnknownOrder:
            return None
        return _parse(OrderOut.model_validate_json, answer.content).to_report()

    async def open_orders(self) -> list[OrderStatusReport]:
        answer = await self._call("GET", "/orders", params={"open": "true"})
        return [o.to_report() for o in _parse(_ORDERS.validate_json, answer.content)]

    async def fills(self, since_ns: int) -> list[Fill]:
        answer = await self._call("GET", "/fills", params={"since_ns": since_ns})
        return [f.to_fill() for f in _parse(_FILLS.validate_json, answer.content)]

    async def account(self) -> AccountState:
        answer = await self._call("GET", "/account")
        return _parse(AccountOut.model_validate_json, answer.content).to_state()

    # -- the one choke point -------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        invalid: type[BrokerError] | type[InvalidOrder] = OrderRejectedByVenue,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; ``invalid`` is what a 422 (a rule the request breaks) raises."""
        http = self._http
        if http is None:
            raise BrokerUnavailable(f"{self.venue}: not connected")
        try:
            answer = await http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise BrokerUnavailable(f"{self.venue}: no answer to {method} {path} in time") from exc
        except httpx.TransportError as exc:
            raise BrokerUnavailable(f"{self.venue}: {method} {path}: {exc!r}") from exc
        if answer.is_success:
            return answer
        reason = _reason(answer)
        status = answer.status_code
        if status >= 500:
            raise BrokerUnavailable(f"{self.venue}: {status} on {method} {path}: {reason}")
        if status in (401, 403):
            raise AuthenticationFailed(
                f"{self.venue}: the venue refused our token ({reason}); on one host both "
                "processes need the same data folder (its serve-token file), across hosts "
                "set JTS_SERVE__TOKEN to the token the venue serves with"
            )
        if status == 404:
            raise UnknownOrder(f"{self.venue}: {reason}")
        if status == 422:
            raise invalid(reason)
        raise OrderRejectedByVenue(reason)

    # -- reports ---------------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0
        while True:
            try:
                answer = await self._call(
                    "GET",
                    "/reports",
                    params={"after": self.last_seq, "wait": self._poll_wait},
                    timeout=self._poll_wait + self._timeout,
                )
                page = _parse(ReportPage.model_validate_json, answer.content)
            except BrokerError as exc:
                if failures == 0:
                    log.warning("%s: report stream interrupted: %s", self.venue, exc)
                failures += 1
                await asyncio.sleep(min(_MAX_BACKOFF, 0.1 * 2 ** min(failures, 6)))
                continue
            if failures:
                log.warning("%s: report stream back after %d attempts", self.venue, failures)
                failures = 0
            if page.head < self.last_seq:
                # The venue restarted with an empty journal: its numbering starts again.
                log.warning(
                    "%s: venue journal restarted at %d; following it", self.venue, page.head
                )
                self.last_seq = 0
                continue
            if not await self._hand_over(page):
                await asyncio.sleep(1.0)

    async def catch_up(self) -> None:
        """Hand over every report the venue's journal holds now, without waiting for more.

        Over Kafka in lockstep, order execution sizes a minute only once the venue
        matched it (its minute mark) and these reports are applied, as in process.
        """
        while True:
            answer = await self._call("GET", "/reports", params={"after": self.last_seq, "wait": 0})
            page = _parse(ReportPage.model_validate_json, answer.content)
            if not page.reports or page.head < self.last_seq or not await self._hand_over(page):
                return

    async def _hand_over(self, page: ReportPage) -> bool:
        """The page's reports not yet handled, in order; False when one was not taken."""
        if self._handler is None:
            raise ConfigurationError(f"{self.venue}: set a report handler before trading")
        async with self._handing:
            for item in page.reports:
                if item.seq <= self.last_seq:
                    continue
                try:
                    await self._handler(item.to_report())
                except Exception:
                    # Not taken (the database is away, say): ask for it again, never skip it.
                    log.exception("%s: report %d not handled; retrying", self.venue, item.seq)
                    return False
                self.last_seq = item.seq
        return True


def _reason(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else f"HTTP {answer.status_code}"


def _parse(parse: Callable[[bytes], T], content: bytes) -> T:
    try:
        return parse(content)
    except ValidationError as exc:
        raise BrokerUnavailable(f"paper venue answered something unreadable: {exc}") from exc
