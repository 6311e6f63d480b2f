"""``CreonExecution``: orders, cancels and modifies at Creon, and their reports.

Every intent is journaled (fsync'd) before it is sent and bound to Creon's
number when the answer arrives. If the answer is lost the order is UNKNOWN and
resolved from today's orders (``reconciliation``), never by sending again: a
resubmission of a known client order id sends nothing.

Reports come from long-polling the bridge's journal of CpConclusion events from
the last number seen; after an error the poller resumes there, so reports come
once and in order (a new instance starts from the beginning of the bridge's day
and replays; fills carry stable ids). What the events say is what is reported:
an accepted cancel or modify request is not yet a change, the confirm event is
(a cancel is CANCELED only then). A price modify renumbers the order at Creon
(CpTd0313); a lower quantity is a partial cancel (CpTd0314 with a quantity) and
keeps the number. Modifies made by hand in the HTS arrive as the same events
and are reported the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from pydantic import TypeAdapter

from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.prices import check_krx_price
from jts.brokers.common.prices import whole
from jts.brokers.creon.errors import VENUE
from jts.brokers.creon.http import BridgeClient
from jts.brokers.creon.parsing import creon_code
from jts.brokers.creon.parsing import fill_of
from jts.brokers.creon.parsing import instrument_id_of
from jts.brokers.creon.parsing import order_body
from jts.brokers.creon.reconciliation import CreonReconciler
from jts.brokers.creon.reconciliation import follow
from jts.brokers.creon.schemas import BalanceOut
from jts.brokers.creon.schemas import CancelOut
from jts.brokers.creon.schemas import EventOut
from jts.brokers.creon.schemas import EventPage
from jts.brokers.creon.schemas import FillOut
from jts.brokers.creon.schemas import ModifyIn
from jts.brokers.creon.schemas import ModifyOut
from jts.brokers.creon.schemas import OrderAck
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.errors import ConfigurationError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent
from jts.domain.errors import UnknownOrder
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import OrderStatusReport
from jts.ports.brokers import ReportHandler
from jts.sim.fees import FeeSchedule

log = logging.getLogger("jts.brokers.creon")

_FILLS = TypeAdapter(list[FillOut])
_MAX_BACKOFF = 5.0


@dataclass(slots=True)
class _Terms:
    """An order's terms as its events tell them: the total (filled + working), filled, price."""

    quantity: int
    filled: int
    price: Decimal | None


class CreonExecution:
    """The ExecutionClient port at Creon."""

    venue = VENUE

    def __init__(
        self,
        bridge: BridgeClient,
        *,
        journal_path: Path | None,
        poll_wait: float = 10.0,
        after_seq: int = 0,
        fees: FeeSchedule | None = None,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bridge = bridge
        self._poll_wait = poll_wait
        self.last_seq = after_seq
        self._fees = fees or FeeSchedule.default()
        self._clock = clock
        self._sleep = sleep
        self.journal = IntentJournal(journal_path)
        self.reconciler = CreonReconciler(bridge, self.journal, clock=clock)
        self._handler: ReportHandler | None = None
        self._poller: asyncio.Task[None] | None = None
        self._open = False
        self._rejected: dict[str, str] = {}
        self._not_sent: set[str] = set()
        self._terms: dict[str, _Terms] = {}
        self._foreign: set[str] = set()  # order numbers looked up and found not ours
        self._stopping = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def account_no(self) -> str:
        return self.bridge.account

    @property
    def guard(self) -> VenueGuard:
        return self.bridge.guard

    # -- life cycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        if not self._open:
            await self.bridge.open()
            self._open = True
        self._start_poller()

    async def disconnect(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            self._stopping = True
            poller.cancel()
            # httpcore can swallow a cancel inside the read of a long poll; the flag ends
            # the loop when that read returns (within the poll's wait).
            await asyncio.wait({poller}, timeout=self._poll_wait + 1.0)
        if self._open:
            self._open = False
            await self.bridge.close()
        if poller is not None:
            await asyncio.gather(poller, return_exceptions=True)
            self._stopping = False

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler
        self._start_poller()

    def _start_poller(self) -> None:
        if self._open and self._handler is not None and self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="creon-reports")

    # -- orders ---------------------------------------------------------------------------

    async def submit_order(self, order: Order) -> None:
        cid = order.client_order_id
        known = self.journal.get(cid)
        if known is not None and cid not in self._not_sent:
            await self._resubmitted(known)
            return
        try:
            body = order_body(order, self._clock())
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
            ack = await self.bridge.act(OrderAck, "POST", "/orders", json=body)
            self._not_sent.discard(cid)
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
        if await self.reconciler.resolve(intent) is None:
            raise OutcomeUnknown(
                f"creon: {intent.client_order_id} was sent before and is not found at Creon "
                "yet; not sending it again"
            )

    async def _working_number(self, order: Order) -> str:
        """The Creon number the order works under now (the last of its chain)."""
        intent = self.journal.get(order.client_order_id)
        if intent is not None and intent.venue_order_id is None:
            await self.reconciler.resolve(intent)
            intent = self.journal.get(order.client_order_id)
        number = (intent.venue_order_id if intent else None) or order.venue_order_id or None
        if number is None:  # a blank number is no number
            raise UnknownOrder(f"creon: no Creon order number for {order.client_order_id}")
        return number

    async def cancel_order(self, order: Order) -> None:
        """Ask Creon to cancel what is left; CANCELED comes with Creon's confirmation."""
        number = await self._working_number(order)
        await self.bridge.act(
            CancelOut,
            "DELETE",
            f"/orders/{number}",
            params={"code": creon_code(order.instrument_id)},
        )

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        """Lower the quantity (a partial cancel, first) and/or reprice (CpTd0313, a new number).

        The new terms are reported when Creon confirms them (CpConclusion), like a
        modify made by hand; the new number is bound to the order at once. Creon
        has no single request for both: when the reprice is refused after the
        partial cancel went through, the order works on at its old price with the
        lower quantity (reported by the cancel's confirmation).
        """
        order.check_amendment(price, quantity)
        reprice = price is not None and price != order.price
        if reprice and price is not None:
            check_krx_price(order.instrument_id, price, self._clock())
        # Lowered first: the partial cancel names the number the order works under now.
        cut = order.quantity - quantity if quantity is not None else Decimal(0)
        code = creon_code(order.instrument_id)
        number = await self._working_number(order)
        if cut > 0:
            await self.bridge.act(
                CancelOut,
                "DELETE",
                f"/orders/{number}",
                params={"code": code, "quantity": int(whole(cut, "quantity"))},
            )
        if reprice and price is not None:
            # CpTd0313 input 5 is the quantity to modify: 0, all that remains.
            body = ModifyIn(code=code, price=price, quantity=0).model_dump(mode="json")
            answer = await self.bridge.act(ModifyOut, "POST", f"/orders/{number}/modify", json=body)
            follow(self.journal, answer.order_no, number, price)

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
            report = await self.reconciler.resolve(intent)
        else:
            report = self.reconciler.report(client_order_id, await self.reconciler.today())
        return None if report is None else self._settled(report)

    def _settled(self, report: OrderStatusReport) -> OrderStatusReport:
        """A closed order as its events tell it, when they agree with the look-up.

        A look-up cannot tell a lowered quantity that then filled (FILLED) from a
        fill followed by a cancel of the rest (CANCELED): both leave a canceled part.
        The events, taken in order, can.
        """
        terms = self._terms.get(report.client_order_id or "")
        if terms is None or report.status.is_open or terms.filled != report.filled_quantity:
            return report
        status = OrderStatus.FILLED if terms.filled >= terms.quantity else report.status
        return replace(report, quantity=Decimal(terms.quantity), status=status)

    async def open_orders(self) -> list[OrderStatusReport]:
        rows = await self.reconciler.open()
        numbers = {r.order_no for r in rows}
        if not any(len(self.journal.venue_ids_of(c)) > 1 for c in self._owners(numbers)):
            return self.reconciler.reports(rows)
        # A renumbered order's earlier fills are under numbers that are no longer open.
        reports = self.reconciler.reports(await self.reconciler.today())
        return [r for r in reports if self._still_open(r, numbers)]

    def _still_open(self, report: OrderStatusReport, numbers: set[str]) -> bool:
        if report.client_order_id is None:
            return report.venue_order_id in numbers
        return not numbers.isdisjoint(self.journal.venue_ids_of(report.client_order_id))

    def _owners(self, numbers: set[str]) -> set[str]:
        return {c for n in numbers if (c := self.journal.client_id_of(n)) is not None}

    async def fills(self, since_ns: int) -> list[Fill]:
        items = await self.bridge.get_list(_FILLS, "/fills", params={"since_ns": since_ns})
        unknown = {
            i.order_no
            for i in items
            if self.journal.client_id_of(i.order_no) is None and i.order_no not in self._foreign
        }
        if unknown:
            # A new number of one of ours (a modify by hand, seen before its events)?
            await self.reconciler.today()
            self._foreign |= {n for n in unknown if self.journal.client_id_of(n) is None}
        fills = []
        for item in items:
            cid = self.journal.client_id_of(item.order_no)
            if cid is not None:  # orders placed outside JTS are not ours to report
                fills.append(fill_of(self._fees, cid, item.fill_id, item))
        return fills

    async def account(self) -> AccountState:
        balance = await self.bridge.get(BalanceOut, "/balance")
        return AccountState(
            account=self.account_no,
            currency="KRW",
            cash=balance.cash,
            reserved_cash=balance.reserved_cash,
            positions={instrument_id_of(p.code): Decimal(p.quantity) for p in balance.positions},
        )

    # -- reports --------------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                page = await self.bridge.get(
                    EventPage,
                    "/events",
                    params={"after": self.last_seq, "wait": self._poll_wait},
                    read_timeout=self._poll_wait + self.bridge.timeout,
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
        cid = await self._owner(event)
        if cid is None:
            return  # placed outside JTS (HTS, another program)
        report = self._report(cid, event)
        if report is not None:
            await self._emit(report)

    async def _owner(self, event: EventOut) -> str | None:
        if event.modify == "cancel" or (event.modify == "modify" and event.kind != "confirm"):
            # A cancel's own number is not the order's, and a modify's new number is the
            # order's only once confirmed (or filled): the original number names it.
            return await self._client_id(event.orig_order_no or event.order_no)
        price = event.price if event.kind == "confirm" else None
        cid = follow(self.journal, event.order_no, event.orig_order_no, price)
        return cid if cid is not None else await self._client_id(event.order_no)

    async def _client_id(self, order_no: str) -> str | None:
        cid = self.journal.client_id_of(order_no)
        if cid is not None:
            return cid
        # The event may have overtaken the submit's answer, or the answer was lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.bridge.timeout * 2)
        cid = self.journal.client_id_of(order_no)
        if cid is None:
            await self.reconciler.resolve_unbound(set(self._rejected) | self._not_sent)
            cid = self.journal.client_id_of(order_no)
        return cid

    def _terms_of(self, cid: str) -> _Terms:
        terms = self._terms.get(cid)
        if terms is None:
            intent = self.journal.get(cid)
            quantity = int(intent.quantity) if intent is not None else 0
            terms = _Terms(quantity, 0, intent.price if intent is not None else None)
            self._terms[cid] = terms
        return terms

    def _working_status(self, terms: _Terms) -> OrderStatus:
        return OrderStatus.PARTIALLY_FILLED if terms.filled else OrderStatus.ACCEPTED

    def _report(self, cid: str, event: EventOut) -> ExecutionReport | None:
        terms = self._terms_of(cid)
        if event.kind == "fill" and event.fill_id is not None:
            terms.filled += event.quantity
            done = terms.filled >= terms.quantity
            return ExecutionReport(
                cid,
                OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
                event.ts,
                venue_order_id=event.order_no,
                fill=fill_of(self._fees, cid, event.fill_id, event),
            )
        if event.kind == "confirm":
            return self._confirmed(cid, terms, event)
        if event.modify != "normal":
            if event.kind == "reject":
                self._refused(cid, event)
            return None  # the cancel's or the modify's own acceptance: no change yet
        if event.kind == "accepted":
            return ExecutionReport(
                cid, OrderStatus.ACCEPTED, event.ts, venue_order_id=event.order_no
            )
        if event.kind == "reject":
            return ExecutionReport(
                cid,
                OrderStatus.REJECTED,
                event.ts,
                venue_order_id=event.order_no,
                reason="rejected by the exchange (Creon CpConclusion)",
            )
        return None

    def _refused(self, cid: str, event: EventOut) -> None:
        """Creon refused a modify or cancel: the order works on as it was, under its number."""
        log.warning("creon: Creon refused a %s of %s (%s)", event.modify, cid, event.order_no)
        intent = self.journal.get(cid)
        orig = event.orig_order_no
        if event.modify == "modify" and orig and intent and intent.venue_order_id == event.order_no:
            self.journal.bind(cid, orig)  # bound at the request's answer; it never worked

    def _confirmed(self, cid: str, terms: _Terms, event: EventOut) -> ExecutionReport | None:
        """Creon confirmed a modify (a new price, a new number) or a cancel (part or all)."""
        if event.modify == "modify":
            terms.price = event.price
            return self._modified(cid, terms, event.ts, event.order_no)
        if event.modify != "cancel":
            return None
        number = event.orig_order_no or event.order_no
        remaining = terms.quantity - terms.filled
        if 0 < event.quantity < remaining:
            terms.quantity -= event.quantity  # part canceled: a lower quantity
            return self._modified(cid, terms, event.ts, number)
        return ExecutionReport(cid, OrderStatus.CANCELED, event.ts, venue_order_id=number)

    def _modified(self, cid: str, terms: _Terms, ts: int, number: str) -> ExecutionReport:
        intent = self.journal.get(cid)
        current = intent.venue_order_id if intent is not None and intent.venue_order_id else number
        return ExecutionReport(
            cid,
            self._working_status(terms),
            ts,
            venue_order_id=current,
            reason=MODIFIED_ON_REQUEST,
            price=terms.price,
            quantity=Decimal(terms.quantity),
        )

    async def _emit(self, report: ExecutionReport) -> None:
        if self._handler is None:
            raise ConfigurationError("creon: set a report handler before trading")
        await self._handler(report)
