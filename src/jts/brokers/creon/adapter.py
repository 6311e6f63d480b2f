"""``CreonBroker``: market data and execution at Creon, through ``jts-creon-bridge`` over HTTP.

Creon takes no client order id: an order is named only by the number in the
answer to the submit. So every intent is journaled (fsync'd) before it is
sent and bound to Creon's number when the answer arrives. If the answer is
lost the order is UNKNOWN, and it is resolved by matching today's orders at
Creon on instrument, side, quantity, price and time (``match_intent``), never
by sending again: a resubmission of a known client order id sends nothing.

Every call goes through one ``VenueGuard`` (breaker, rate budget, retries that
respect whether an order may have acted) and one error choke point
(``_call``). Execution reports come from long-polling the bridge's journal of
CpConclusion events from the last number seen; after an error the poller
resumes there, so reports come once and in order (a new instance starts from
the beginning of the bridge's day and replays; fills carry stable ids).

Commission and tax are not in Creon's fill events; they come from the fee
schedule (commission per broker, sell tax dated by settlement; Creon's online
commission rate is not confirmed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import TypeVar

import httpx
from pydantic import BaseModel
from pydantic import TypeAdapter
from pydantic import ValidationError

from jts.brokers.common.breaker import CircuitBreaker
from jts.brokers.common.costs import krx_fill_costs
from jts.brokers.common.guard import RetryPolicy
from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.intents import RESOLVE_GRACE_NS
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.intents import match_intent
from jts.brokers.common.prices import check_krx_price
from jts.brokers.common.prices import whole
from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.common.ratelimit import RateLimit
from jts.brokers.common.requests import require_fields
from jts.brokers.creon.errors import VENUE
from jts.brokers.creon.errors import from_answer
from jts.brokers.creon.errors import from_transport
from jts.brokers.creon.schemas import BalanceOut
from jts.brokers.creon.schemas import BarsOut
from jts.brokers.creon.schemas import EventOut
from jts.brokers.creon.schemas import EventPage
from jts.brokers.creon.schemas import FillOut
from jts.brokers.creon.schemas import HealthOut
from jts.brokers.creon.schemas import InstrumentOut
from jts.brokers.creon.schemas import OrderAck
from jts.brokers.creon.schemas import OrderIn
from jts.brokers.creon.schemas import OrderOut
from jts.brokers.creon.schemas import QuoteOut
from jts.domain.enums import Market
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import TimeInForce
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import ConfigurationError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent
from jts.domain.errors import UnknownOrder
from jts.domain.fills import Fill
from jts.domain.instruments import KRX
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.ports.brokers import ReportHandler
from jts.sim.fees import FeeSchedule

log = logging.getLogger("jts.brokers.creon")

M = TypeVar("M", bound=BaseModel)
_ORDERS = TypeAdapter(list[OrderOut])
_FILLS = TypeAdapter(list[FillOut])
_INSTRUMENTS = TypeAdapter(list[InstrumentOut])
_MAX_BACKOFF = 5.0
_MARKETS = {1: Market.KOSPI, 2: Market.KOSDAQ, 3: Market.KONEX}
_CONDITIONS = {TimeInForce.DAY: "NONE", TimeInForce.GTC: "NONE", TimeInForce.IOC: "IOC"}
# The bridge paces by Creon's own counters; this only keeps a runaway caller off it.
DEFAULT_LIMITS = (RateLimit(20, 1.0),)


def creon_code(instrument_id: str) -> str:
    """``KRX:005930`` -> ``A005930``."""
    parsed = InstrumentId.parse(instrument_id)
    if parsed.venue != KRX or len(parsed.code) != 6 or not parsed.code.isdigit():
        raise InvalidOrder(f"{instrument_id} is not a KRX stock Creon can trade")
    return f"A{parsed.code}"


def instrument_id_of(code: str) -> str:
    """``A005930`` -> ``KRX:005930``."""
    return f"{KRX}:{code[1:] if code.startswith('A') else code}"


class CreonBroker:
    """Both ports (MarketDataClient and ExecutionClient) for one Creon account."""

    venue = VENUE

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        account: str,
        journal_path: Path | None,
        budget: RateBudget | None = None,
        breaker: CircuitBreaker | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        poll_wait: float = 10.0,
        after_seq: int = 0,
        fees: FeeSchedule | None = None,
        watch: Sequence[str] = (),
        quote_interval: float = 1.0,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.account_no = account
        self._base_url = base_url.rstrip("/")
        self._secret = secret
        self._timeout = timeout
        self._poll_wait = poll_wait
        self.last_seq = after_seq
        self._fees = fees or FeeSchedule.default()
        self.watch = tuple(watch)
        self.polls = 0  # completed rounds of the market data stream
        self._quote_interval = quote_interval
        self._clock = clock
        self._sleep = sleep
        self.journal = IntentJournal(journal_path)
        self.guard = VenueGuard(
            f"{VENUE}:{account}",
            budget or RateBudget(f"{VENUE}:{account}", DEFAULT_LIMITS),
            breaker,
            policy,
            sleep=sleep,
        )
        self._handler: ReportHandler | None = None
        self._http: httpx.AsyncClient | None = None
        self._poller: asyncio.Task[None] | None = None
        self._rejected: dict[str, str] = {}
        self._not_sent: set[str] = set()
        self._stopping = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- life cycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        if self._http is not None:
            return
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {self._secret}"},
            timeout=self._timeout,
        )
        try:
            health = await self._get(HealthOut, "/health")
        except BrokerUnavailable as exc:
            log.warning("creon: bridge not reachable at connect (%s); carrying on", exc)
        except BaseException:
            await self.disconnect()  # a wrong secret: fail now, not at the first order
            raise
        else:
            if health.account is not None and not self.account_no:
                self.account_no = health.account  # not configured: the bridge's account
            elif health.account is not None and health.account != self.account_no:
                await self.disconnect()
                raise ConfigurationError(
                    f"creon: the bridge trades account {health.account}, not {self.account_no}"
                )
        self._start_poller()

    async def disconnect(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            self._stopping = True
            poller.cancel()
            # httpcore can swallow a cancel inside the read of a long poll; closing the
            # client's sockets below ends that read, and the flag ends the loop.
            await asyncio.wait({poller}, timeout=1.0)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if poller is not None:
            await asyncio.gather(poller, return_exceptions=True)
            self._stopping = False

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler
        self._start_poller()

    def _start_poller(self) -> None:
        if self._http is not None and self._handler is not None and self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="creon-reports")

    # -- market data ----------------------------------------------------------------------

    async def instruments(self) -> list[Instrument]:
        answer = await self._guarded("GET", "/instruments")
        listed = _parse(_INSTRUMENTS.validate_json, answer.content)
        return [
            krx_stock(item.code[1:], item.name, _MARKETS.get(item.market, Market.KOSPI))
            for item in listed
            if item.code.startswith("A")
        ]

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        quote = await self._get(QuoteOut, f"/quotes/{creon_code(instrument_id)}")
        return quote.price if quote.price > 0 else None

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        page = await self._get(
            BarsOut,
            f"/bars/{creon_code(instrument_id)}",
            params={"timeframe": timeframe.value, "start": start_ns, "end": end_ns},
        )
        return [
            Bar(instrument_id, timeframe, b.ts, b.open, b.high, b.low, b.close, b.volume)
            for b in page.bars
        ]

    async def stream(self) -> AsyncIterator[MarketDataBatch]:
        """Trades of the ``watch`` list from polled quotes, and its closed minute bars.

        Creon's real-time StockCur needs a COM subscription per code, which the
        bridge does not relay, so this polls: each quote look-up's volume growth is
        a tick, and at every minute boundary the minute chart gives the closed bars
        (one look-up per symbol per minute: Creon's 60 per 15 s cover 240 symbols).
        Bars come from the venue's chart, never from sampled quotes.
        """
        volumes: dict[str, int] = {}
        emitted: dict[str, int] = {}
        while self._http is not None:
            now = self._clock()
            minute = now - now % NANOS_PER_MINUTE
            bars: list[Bar] = []
            for instrument_id in self.watch:
                since = emitted.get(instrument_id, minute - NANOS_PER_MINUTE)
                if since >= minute:
                    continue
                try:
                    closed = await self.historical_bars(instrument_id, since, minute, Timeframe.M1)
                except BrokerUnavailable as exc:
                    log.warning("creon: minute bars of %s failed: %s", instrument_id, exc)
                    continue
                bars.extend(closed)
                emitted[instrument_id] = minute
            ticks: list[Tick] = []
            for instrument_id in self.watch:
                try:
                    quote = await self._get(QuoteOut, f"/quotes/{creon_code(instrument_id)}")
                except BrokerUnavailable as exc:
                    log.warning("creon: quote for %s failed: %s", instrument_id, exc)
                    continue
                before = volumes.get(instrument_id)
                volumes[instrument_id] = quote.volume
                if before is not None and quote.volume > before and quote.price > 0:
                    ticks.append(
                        Tick(instrument_id, quote.ts, quote.price, Decimal(quote.volume - before))
                    )
            self.polls += 1
            if ticks or bars:
                yield MarketDataBatch(ts=self._clock(), bars=tuple(bars), ticks=tuple(ticks))
            await self._sleep(self._quote_interval)

    # -- orders ---------------------------------------------------------------------------

    async def submit_order(self, order: Order) -> None:
        cid = order.client_order_id
        known = self.journal.get(cid)
        if known is not None and cid not in self._not_sent:
            await self._resubmitted(known)
            return
        try:
            body = self._order_body(order)
        except InvalidOrder as exc:
            # Refused here, so never at Creon: REJECTED, as Creon would have answered.
            self._rejected[cid] = f"not sent to Creon: {exc}"
            await self._emit(
                ExecutionReport(
                    cid, OrderStatus.REJECTED, self._clock(), reason=self._rejected[cid]
                )
            )
            return
        intent = OrderIntent(
            client_order_id=cid,
            instrument_id=order.instrument_id,
            side=order.side,
            quantity=order.quantity,
            price=order.price if order.order_type is OrderType.LIMIT else None,
            sent_ns=self._clock(),
        )
        self.journal.record(intent)
        self._in_flight += 1
        self._idle.clear()
        try:
            answer = await self._guarded("POST", "/orders", json=body, idempotent=False)
            self._not_sent.discard(cid)
            ack = _parse(OrderAck.model_validate_json, answer.content, acts=True)
            self.journal.bind(cid, ack.order_no)
        except RequestNotSent:
            self._not_sent.add(cid)  # provably never reached Creon: may be sent again
            raise
        except OrderRejectedByVenue as exc:
            self._rejected[cid] = exc.reason
            await self._emit(
                ExecutionReport(cid, OrderStatus.REJECTED, self._clock(), reason=exc.reason)
            )
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _resubmitted(self, intent: OrderIntent) -> None:
        """A client order id seen before: report what is known, never send it again."""
        if intent.client_order_id in self._rejected or intent.venue_order_id is not None:
            return
        if await self._resolve(intent) is None:
            raise OutcomeUnknown(
                f"creon: {intent.client_order_id} was sent before and is not found at Creon "
                "yet; not sending it again"
            )

    def _order_body(self, order: Order) -> dict[str, Any]:
        code = creon_code(order.instrument_id)
        quantity = int(whole(order.quantity, "quantity"))
        price = order.price if order.order_type is OrderType.LIMIT else None
        if price is not None:
            check_krx_price(order.instrument_id, price, self._clock())
        body = OrderIn(
            side=order.side,
            code=code,
            quantity=quantity,
            price=price,
            order_type=order.order_type,
            condition=_CONDITIONS[order.time_in_force],
        ).model_dump(mode="json")
        # CpTd0311 needs a price for a limit order (input 5); never let the bridge guess.
        required: tuple[str, ...] = ("side", "code", "quantity", "order_type")
        if order.order_type is OrderType.LIMIT:
            required += ("price",)
        require_fields("creon", f"order {order.client_order_id}", body, required)
        return body

    async def cancel_order(self, order: Order) -> None:
        venue_order_id = order.venue_order_id or None  # a blank number is no number
        if venue_order_id is None:
            intent = self.journal.get(order.client_order_id)
            if intent is not None and intent.venue_order_id is None:
                await self._resolve(intent)
                intent = self.journal.get(order.client_order_id)
            venue_order_id = (intent.venue_order_id if intent else None) or None
        if venue_order_id is None:
            raise UnknownOrder(f"creon: no Creon order number for {order.client_order_id}")
        await self._guarded(
            "DELETE",
            f"/orders/{venue_order_id}",
            params={"code": creon_code(order.instrument_id)},
            idempotent=False,
        )

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None:
        intent = self.journal.get(client_order_id)
        if intent is None:
            return None
        if client_order_id in self._rejected:
            return OrderStatusReport(
                client_order_id,
                "",
                intent.instrument_id,
                intent.side,
                intent.quantity,
                intent.price,
                Decimal(0),
                None,
                OrderStatus.REJECTED,
                intent.sent_ns,
            )
        if intent.venue_order_id is None:
            return await self._resolve(intent)
        for report in await self._today():
            if report.venue_order_id == intent.venue_order_id:
                return replace(report, client_order_id=client_order_id)
        return None

    async def open_orders(self) -> list[OrderStatusReport]:
        answer = await self._guarded("GET", "/orders", params={"open": "true"})
        return [self._status(o) for o in _parse(_ORDERS.validate_json, answer.content)]

    async def fills(self, since_ns: int) -> list[Fill]:
        answer = await self._guarded("GET", "/fills", params={"since_ns": since_ns})
        fills = []
        for item in _parse(_FILLS.validate_json, answer.content):
            cid = self.journal.client_id_of(item.order_no)
            if cid is not None:  # orders placed outside JTS are not ours to report
                fills.append(self._fill(cid, item.fill_id, item))
        return fills

    async def account(self) -> AccountState:
        balance = await self._get(BalanceOut, "/balance")
        return AccountState(
            account=self.account_no,
            currency="KRW",
            cash=balance.cash,
            reserved_cash=balance.reserved_cash,
            positions={instrument_id_of(p.code): Decimal(p.quantity) for p in balance.positions},
        )

    # -- matching -------------------------------------------------------------------------

    async def _today(self) -> list[OrderStatusReport]:
        answer = await self._guarded("GET", "/orders")
        return [self._status(o) for o in _parse(_ORDERS.validate_json, answer.content)]

    def _status(self, order: OrderOut) -> OrderStatusReport:
        return OrderStatusReport(
            client_order_id=self.journal.client_id_of(order.order_no),
            venue_order_id=order.order_no,
            instrument_id=instrument_id_of(order.code),
            side=order.side,
            quantity=Decimal(order.quantity),
            price=order.price,
            filled_quantity=Decimal(order.filled_quantity),
            avg_fill_price=order.avg_fill_price,
            status=order.status,
            ts=order.ts,
        )

    async def _resolve(self, intent: OrderIntent) -> OrderStatusReport | None:
        """Find the Creon order an unbound intent became, and bind it."""
        today = await self._today()
        current = self.journal.get(intent.client_order_id)
        if current is not None and current.venue_order_id:
            # Bound while we asked (the event poller matched it first).
            for report in today:
                if report.venue_order_id == current.venue_order_id:
                    return replace(report, client_order_id=intent.client_order_id)
        found = match_intent(intent, today, self.journal.claimed())
        if found is None:
            if self._clock() - intent.sent_ns < RESOLVE_GRACE_NS:
                raise BrokerUnavailable(
                    f"creon: {intent.client_order_id} not listed by Creon yet; ask again shortly"
                )
            return None
        self.journal.bind(intent.client_order_id, found.venue_order_id)
        log.warning(
            "creon: %s resolved by matching to order %s",
            intent.client_order_id,
            found.venue_order_id,
        )
        return replace(found, client_order_id=intent.client_order_id)

    async def _resolve_unbound(self) -> None:
        recent = self._clock() - NANOS_PER_DAY
        pending = [
            i
            for i in self.journal.unbound()
            if i.sent_ns > recent
            and i.client_order_id not in self._rejected
            and i.client_order_id not in self._not_sent
        ]
        if not pending:
            return
        today = await self._today()
        for intent in sorted(pending, key=lambda i: i.sent_ns):
            found = match_intent(intent, today, self.journal.claimed())
            if found is not None:
                self.journal.bind(intent.client_order_id, found.venue_order_id)

    # -- reports --------------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                page = await self._get(
                    EventPage,
                    "/events",
                    params={"after": self.last_seq, "wait": self._poll_wait},
                    timeout=self._poll_wait + self._timeout,
                )
                if page.head < self.last_seq:
                    log.warning("creon: bridge journal restarted at %d; following it", page.head)
                    self.last_seq = 0
                    continue
                for event in page.events:
                    if event.seq > self.last_seq:
                        await self._dispatch(event)
                        self.last_seq = event.seq
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                # Bridge away, or the handler failed: ask again from the last event taken.
                if failures == 0:
                    log.warning("creon: report stream interrupted: %s", exc)
                failures += 1
                await asyncio.sleep(min(_MAX_BACKOFF, 0.1 * 2 ** min(failures, 6)))
                continue
            if failures:
                log.warning("creon: report stream back after %d attempts", failures)
                failures = 0

    async def _dispatch(self, event: EventOut) -> None:
        cancel = event.modify == "cancel"
        order_no = event.orig_order_no if cancel and event.orig_order_no else event.order_no
        cid = await self._client_id(order_no)
        if cid is None:
            return  # placed outside JTS (HTS, another program)
        report = self._report(cid, event, order_no)
        if report is not None:
            await self._emit(report)

    async def _client_id(self, order_no: str) -> str | None:
        cid = self.journal.client_id_of(order_no)
        if cid is not None:
            return cid
        # The event may have overtaken the submit's answer, or the answer was lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self._timeout * 2)
        cid = self.journal.client_id_of(order_no)
        if cid is None:
            await self._resolve_unbound()
            cid = self.journal.client_id_of(order_no)
        return cid

    def _report(self, cid: str, event: EventOut, order_no: str) -> ExecutionReport | None:
        if event.kind == "accepted" and event.modify == "normal":
            return ExecutionReport(cid, OrderStatus.ACCEPTED, event.ts, venue_order_id=order_no)
        if event.kind == "fill" and event.fill_id is not None:
            intent = self.journal.get(cid)
            done = intent is not None and event.filled_quantity >= intent.quantity
            return ExecutionReport(
                cid,
                OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
                event.ts,
                venue_order_id=order_no,
                fill=self._fill(cid, event.fill_id, event),
            )
        if event.kind == "confirm" and event.modify == "cancel":
            return ExecutionReport(cid, OrderStatus.CANCELED, event.ts, venue_order_id=order_no)
        if event.kind == "reject" and event.modify == "normal":
            return ExecutionReport(
                cid,
                OrderStatus.REJECTED,
                event.ts,
                venue_order_id=order_no,
                reason="rejected by the exchange (Creon CpConclusion)",
            )
        return None  # modify confirmations, rejected cancels: no change to report

    def _fill(self, cid: str, fill_id: str, item: FillOut | EventOut) -> Fill:
        quantity, price = Decimal(item.quantity), item.price
        instrument_id = instrument_id_of(item.code)
        commission, tax = krx_fill_costs(
            self._fees, instrument_id, item.side, quantity, price, item.ts
        )
        return Fill(
            fill_id=f"creon:{fill_id}",
            order_id=item.order_no,
            client_order_id=cid,
            instrument_id=instrument_id_of(item.code),
            side=item.side,
            quantity=quantity,
            price=price,
            commission=commission,
            tax=tax,
            ts=item.ts,
        )

    async def _emit(self, report: ExecutionReport) -> None:
        if self._handler is None:
            raise ConfigurationError("creon: set a report handler before trading")
        await self._handler(report)

    # -- the one choke point --------------------------------------------------------------

    async def _get(self, model: type[M], path: str, **kwargs: Any) -> M:
        answer = await self._guarded("GET", path, **kwargs)
        return _parse(model.model_validate_json, answer.content)

    async def _guarded(
        self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        return await self.guard.call(
            lambda: self._call(method, path, acts=not idempotent, **kwargs),
            idempotent=idempotent,
        )

    async def _call(self, method: str, path: str, *, acts: bool, **kwargs: Any) -> httpx.Response:
        http = self._http
        what = f"{method} {path}"
        if http is None:
            raise RequestNotSent(f"creon: not connected ({what})")
        try:
            answer = await http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise from_transport(what, exc) from exc
        if answer.is_success:
            return answer
        raise from_answer(what, answer, acts=acts)


T = TypeVar("T")


def _parse(parse: Callable[[bytes], T], content: bytes, *, acts: bool = False) -> T:
    try:
        return parse(content)
    except ValidationError as exc:
        message = f"creon: the bridge answered something unreadable: {exc}"
        raise (OutcomeUnknown(message) if acts else BrokerUnavailable(message)) from exc
