"""Order execution: signals become persisted orders, orders go to the venue, reports come back.

The path of an order: one durable commit, then the wire::

    signals ─> size ─> NEW + SUBMITTED + events (one commit) ─> venue
    venue reports ─> ACCEPTED / fills / REJECTED ... (stored) ─> orders.events, fills

A signal's order is stored already SUBMITTED (both audit entries) with the events
that announce it, and only then sent: nothing reaches a venue before its record is
durable. The signals of one minute held for ``release_signals`` share that commit,
and the venue's answers to the batch while it is sent (ACCEPTED, REJECTED) share
one more, after the last send. Sells are sized from our own fills, kept in memory
(``OwnPositions``), not read from the store per signal.
``orders.pending`` still announces every order; its router sends only orders still
NEW (stored NEW by an older version, or by hand), so it never sends one twice.

The client order id is derived from the signal id, so a replayed signal never
reaches the venue twice. A venue call that fails leaves the order UNKNOWN for
reconciliation; it is never resent blindly. A crash between the commit and the
send leaves a SUBMITTED order the venue never heard of: reconciliation at the
next start asks the venue by client order id and closes it, never resends it.

Every event leaves through the transactional outbox: it is written in the same
transaction as the order state it announces and then published by the relay, so
a crash between the database and the bus neither loses nor invents an event.

A storage outage delays a signal, never drops it: every repository call waits
for the store (``StorageRetry``) while the event stays unacknowledged, and a
handler that runs out of patience parks its event as a dead letter (``jts
doctor`` lists them) instead of letting it vanish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack
from copy import copy
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal

from jts.core import topics
from jts.core.clocks import LiveClock
from jts.core.component import Component
from jts.core.storage_retry import StorageRetry
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import BrokerError
from jts.domain.errors import DomainError
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import InvalidOrder
from jts.domain.errors import StorageError
from jts.domain.errors import StorageUnavailable
from jts.domain.errors import UnknownOrder
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import MinuteMark
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.domain.events import SignalEvent
from jts.domain.fills import Fill
from jts.domain.halts import TradingHalt
from jts.domain.ids import namespace_bytes
from jts.domain.ids import uuid5_text
from jts.domain.instruments import Instrument
from jts.domain.orders import Order
from jts.domain.reports import CANCELED_ON_REQUEST
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import ExecutionReport
from jts.domain.signals import Signal
from jts.ports import Clock
from jts.ports import DeadLetter
from jts.ports import DeadLetterSink
from jts.ports import ExecutionClient
from jts.ports import MessageBus
from jts.ports import OrderRepository
from jts.ports import OutboxMessage
from jts.ports import OutboxRepository
from jts.ports import StatusChange
from jts.ports import TradingHaltStore
from jts.ports import WallClock
from jts.services.execution.buying_power import BuyReservations
from jts.services.execution.buying_power import ReserveRules
from jts.services.execution.foreign import FOREIGN_CANCEL
from jts.services.execution.foreign import FOREIGN_MODIFY
from jts.services.execution.foreign import FOREIGN_ORDER
from jts.services.execution.foreign import AccountGuard
from jts.services.execution.foreign import MemoryHaltStore
from jts.services.execution.minute_marks import SignalMarks
from jts.services.execution.outbox import OutboxConfig
from jts.services.execution.outbox import OutboxRelay
from jts.services.execution.own_positions import OwnPositions
from jts.services.execution.patient_orders import PatientOrderRepository
from jts.services.execution.reconciliation import reconcile_order
from jts.services.execution.sizing import OrderPlan
from jts.services.execution.sizing import SizingConfig
from jts.services.execution.sizing import client_order_id_for
from jts.services.execution.sizing import plan_order
from jts.services.execution.sizing import sellable_quantity
from jts.services.execution.venue_account import VenueAccount

log = logging.getLogger("jts.execution")

_ORDER_NAMESPACE = namespace_bytes("0b8e6f3a-2d4c-5a1b-8e9f-7c6d5e4f3a2b")


def order_id_for(client_order_id: str) -> str:
    """Our order id, derived like the client order id: equal runs store equal orders."""
    return uuid5_text(_ORDER_NAMESPACE, client_order_id)


@dataclass(slots=True)
class ExecutionStats:
    signals: int = 0
    orders: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    reports: int = 0
    fills: int = 0
    duplicate_reports: int = 0
    unknown: int = 0


class OrderExecutionService(Component):
    SIGNAL_GROUP = "order-execution"
    ROUTER_GROUP = "order-router"

    def __init__(
        self,
        bus: MessageBus,
        clock: Clock,
        orders: OrderRepository,
        client: ExecutionClient,
        instruments: Mapping[str, Instrument],
        outbox: OutboxRepository,
        sizing: SizingConfig | None = None,
        name: str = "order-execution",
        outbox_config: OutboxConfig | None = None,
        halts: TradingHaltStore | None = None,
        *,
        storage_retry: StorageRetry | None = None,
        dead_letters: DeadLetterSink | None = None,
        wall_clock: WallClock | None = None,
        reserve_rules: ReserveRules | None = None,
        release_on_marks: bool = False,
        venue_marks: bool = False,
    ) -> None:
        super().__init__(name)
        self._bus = bus
        # The outbox ages its rows on wall time, whatever ``clock`` trading runs on.
        self._wall = wall_clock or LiveClock()
        self.relay = OutboxRelay(bus, outbox, outbox_config, clock=self._wall)
        # Sizing's view of the venue account, not a venue read per signal (venue_account.py).
        self._account = VenueAccount(client, self._wall)
        self._clock = clock
        self._orders = PatientOrderRepository(orders, storage_retry or StorageRetry())
        self._dead_letters = dead_letters
        # Set when reconciliation had to wait for the clock to have a time (see reconcile).
        self._reconcile_deferred = False
        self._client = client
        self._instruments = dict(instruments)
        self._sizing = sizing or SizingConfig()
        self._open: dict[str, Order] = {}
        self._reservations = BuyReservations(reserve_rules)
        # Our net filled quantity per instrument: sells are sized from it (own_positions.py).
        self._own = OwnPositions(self._orders, client.venue)
        # Signals waiting for ``release_signals`` while signals are held (see there).
        self.hold_signals = False
        self._held: list[SignalEvent] = []
        # Over Kafka nobody can call release_signals at the right time: signals are held
        # and released by the strategy engines' minute marks instead (``minute_marks.py``).
        self.marks = (
            SignalMarks(self.release_signals, bus, name, venue=client if venue_marks else None)
            if release_on_marks
            else None
        )
        # Orders whose submit call has not returned: the venue may not know them yet, so
        # reconciliation must not conclude anything from its silence.
        self._in_flight: set[str] = set()
        # Venue reports for orders of a batch being sent, held for one commit (_place).
        self._answers: dict[str, list[ExecutionReport]] = {}
        # Orders with a modify this platform asked for that the venue has not yet shown
        # done: their amended terms are ours; any other amendment is foreign.
        self._modifying: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        # One lock per order: a report, a routing and a reconciliation of the same order
        # never interleave, while different orders go through in parallel.
        self._locks: dict[str, asyncio.Lock] = {}
        self.stats = ExecutionStats()
        # The account behind this client; halted by orders we did not place (foreign.py).
        self.guard = AccountGuard(client.venue, halts or MemoryHaltStore(), bus, clock, name)
        client.set_report_handler(self.handle_report)
        bus.subscribe(topics.SIGNALS, self.handle_signal, group=self.SIGNAL_GROUP)
        bus.subscribe(topics.ORDERS_PENDING, self.handle_pending, group=self.ROUTER_GROUP)

    async def _on_start(self) -> None:
        await self.relay.start()
        await self._own.load()
        for order in await self._orders.list(statuses=[s for s in OrderStatus if s.is_open]):
            # A venue report may have come in (and loaded the order) while we listed.
            self._open.setdefault(order.client_order_id, order)
        await self.reconcile()
        if not self._reconcile_deferred:
            await self._route_stranded()

    async def _route_stranded(self) -> None:
        # The outbox carried orders.pending out, but an in-process bus loses what it had
        # queued in a crash: publishing again is safe, the router only sends orders still NEW.
        for order in list(self._open.values()):
            if order.status is OrderStatus.NEW:
                await self._bus.publish(
                    topics.ORDERS_PENDING,
                    OrderPending.from_order(order, ts=self._clock.timestamp_ns(), source=self.name),
                )

    async def _on_stop(self) -> None:
        await self._account.close()
        await self.relay.stop()

    def _lock(self, client_order_id: str) -> asyncio.Lock:
        lock = self._locks.get(client_order_id)
        if lock is None:
            lock = self._locks[client_order_id] = asyncio.Lock()
        return lock

    # -- signals -> orders ---------------------------------------------------------------

    async def handle_signal(self, event: Event) -> None:
        if not isinstance(event, SignalEvent):
            if self.marks is not None and isinstance(event, MinuteMark):
                await self.marks.observe(event)
            return
        if self.hold_signals or self.marks is not None:
            self._held.append(event)
            return
        await self._handle_signal_event(event)

    @property
    def held_signals(self) -> int:
        """How many signals wait for ``release_signals``."""
        return len(self._held)

    async def release_signals(self, through: int | None = None) -> int:
        """Size the held signals one at a time in a defined order; returns how many.

        ``through``: only those stamped at or before that market time (a minute marked
        complete); later ones stay held.

        Signals of one market minute compete for the same cash, and which one gets it
        must not depend on which bus lane or partition delivered first. A driver that
        knows the minute is complete (the platform in lockstep, after the bus settled)
        holds signals and releases them here, in (signal time, instrument, strategy,
        side, signal id) order. Their orders are stored together in one commit and sent
        only after the last is sized, in that order, so no venue answer (a reject
        freeing its reservation) lands in between.
        """
        held, self._held = self._held, []
        if through is not None:
            self._held = [e for e in held if e.ts > through]
            held = [e for e in held if e.ts <= through]
        if not held:
            return 0
        held.sort(key=_signal_order)
        staged: list[_Staged] = []
        try:
            for event in held:
                item = await self._stage_event(event)
                if item is not None:
                    staged.append(item)
        except BaseException:
            for item in staged:
                self._forget(item.order)
            raise
        await self._place(staged)
        return len(held)

    async def _handle_signal_event(self, event: SignalEvent) -> None:
        item = await self._stage_event(event)
        if item is not None:
            await self._place([item])

    async def _stage_event(self, event: SignalEvent) -> _Staged | None:
        try:
            return await self._stage(event)
        except StorageUnavailable as exc:
            # Out of patience anywhere (reconciling, sizing from our books): parked, not lost.
            await self._dead_letter(topics.SIGNALS, self.SIGNAL_GROUP, event, exc)
            return None

    async def _stage(self, event: SignalEvent) -> _Staged | None:
        """Size ``event`` into an order, SUBMITTED in memory and counted as working.

        Nothing is stored yet: ``_place`` stores what was staged in one commit, then
        sends it. Counted as working (``_open``, its reservation) at once, so the next
        signal's sizing sees it; in flight until its submit returns, so neither
        reconciliation nor a modify acts on an order the venue may not know yet.
        """
        if self._reconcile_deferred and self._clock.timestamp_ns() > 0:
            self._reconcile_deferred = False  # once, even with signals on several lanes
            await self.reconcile()  # what start could not do before the clock had a time
            await self._route_stranded()
        self.stats.signals += 1
        signal = event.signal
        client_order_id = client_order_id_for(signal.signal_id)
        instrument = await self._screen(signal, client_order_id)
        if instrument is None:
            return None
        plan = await self._plan(signal.side, signal.instrument_id, instrument, event)
        if isinstance(plan, str):
            self._skip(plan)
            return None
        now = self._clock.timestamp_ns()
        order = Order(
            instrument_id=signal.instrument_id,
            side=signal.side,
            order_type=plan.order_type,
            quantity=plan.quantity,
            price=plan.price,
            created_ts=now,
            broker=self._client.venue,
            strategy_id=signal.strategy_id,
            signal_id=signal.signal_id,
            order_id=order_id_for(client_order_id),
            client_order_id=client_order_id,
            quote_quantity=plan.quote_quantity,
        )
        # orders.pending still announces the order (the roadmap's topic); its router finds
        # the order SUBMITTED and leaves it alone, so it is never a second send.
        created = [
            self._status_message(order, None),
            OutboxMessage(
                topics.ORDERS_PENDING, OrderPending.from_order(order, ts=now, source=self.name)
            ),
        ]
        previous = order.transition(OrderStatus.SUBMITTED, now)
        self._open[client_order_id] = order
        self._in_flight.add(client_order_id)
        self._reservations.sized(order, signal.price)
        return _Staged(event, order, [*created, self._status_message(order, previous)])

    async def _place(self, staged: list[_Staged]) -> None:
        """Store the staged orders in one commit, then send each to the venue, in order.

        The write-ahead rule: an order reaches the venue only once its SUBMITTED record
        is durable. A crash after the commit and before the send leaves a SUBMITTED
        order the venue never heard of; reconciliation at the next start asks the venue
        by client order id and closes it (REJECTED, "venue has no record"), never sends
        it again.
        """
        if not staged:
            return
        halt = await self.guard.halted()
        if halt is not None:
            # Halted while the minute was sized (a foreign order reported): nothing goes.
            for item in staged:
                self._forget(item.order)
                self._skip("account halted")
            log.warning("%d order(s) not placed: %s", len(staged), _halted(halt))
            return
        stored = await self._store(staged)
        self.stats.orders += len(stored)
        # Every stored order announced first: a venue answering inline (the paper venue)
        # must not hold the later orders' SUBMITTED back behind its ACCEPTED commits.
        await self.relay.deliver([m for item in stored for m in item.messages])
        if stored:
            # One turn of the loop for the bus's consumers (a zero wait): the in-process
            # bus hands them events only when this task suspends, and sending and storing
            # the venue's answers to a minute's orders (5 ms for 46) would come first.
            await self._wall.sleep(0)
        # The venue's answers to the batch (a paper venue answers inside the submit call)
        # wait until every order is sent and are then stored together: one commit for the
        # batch's ACCEPTED, not one per order ahead of the next order's send.
        answers: list[ExecutionReport] = []
        for item in stored:
            self._answers[item.order.client_order_id] = answers
        failed: list[tuple[Order, str]] = []
        try:
            for item in stored:
                failure = await self._send(item.order)
                if failure is not None:
                    failed.append((item.order, failure))
        finally:
            try:
                await self._answered(answers, [item.order.client_order_id for item in stored])
                for order, failure in failed:
                    await self._mark_unknown(order, failure)
            finally:
                # In flight until its answers are stored. One stopped before it was sent
                # (cancelled) is stored SUBMITTED and never sent, as after a crash; no
                # longer in flight, reconciliation can close it.
                for item in stored:
                    self._in_flight.discard(item.order.client_order_id)

    async def _store(self, staged: list[_Staged]) -> list[_Staged]:
        """Commit ``staged`` together; the ones stored (a duplicate is left out, alone)."""
        placed = [(item.order, item.messages) for item in staged]
        try:
            await self._orders.add_submitted(placed)
        except DuplicateOrder:
            if len(staged) > 1:
                # Someone's order is stored already (a redelivered signal): find whose. The
                # orders sized after it counted its reservation: less cash, never more.
                return [kept for item in staged for kept in await self._store([item])]
            # Seen before: the stored order stands, nothing is sent.
            self._forget(staged[0].order)
            self._skip("duplicate signal")
            return []
        except StorageUnavailable as exc:
            for item in staged:
                self._forget(item.order)
                await self._dead_letter(topics.SIGNALS, self.SIGNAL_GROUP, item.event, exc)
            return []
        except BaseException:
            for item in staged:
                self._forget(item.order)
            raise
        return staged

    def _forget(self, order: Order) -> None:
        """Undo a staged order that was not stored: no longer working, nothing reserved."""
        self._open.pop(order.client_order_id, None)
        self._in_flight.discard(order.client_order_id)
        self._reservations.finished(order.client_order_id)

    async def _send(self, order: Order) -> str | None:
        """Hand a stored SUBMITTED order to the venue; why it failed, if the call failed."""
        try:
            await self._client.submit_order(order)
        except BrokerError as exc:
            return f"submit failed: {exc}"
        return None

    async def _answered(self, answers: list[ExecutionReport], client_order_ids: list[str]) -> None:
        """Apply a batch's held venue answers in the order they came, then stop holding.

        Runs of plain status changes (ACCEPTED, REJECTED) are stored in one commit; a
        fill, a modify or a cancel goes the way of any report, after the ones before it.
        Answers that come while these are stored are held too, so none overtakes another.
        """
        try:
            while answers:
                reports = answers[:]
                del answers[:]
                run: list[ExecutionReport] = []
                for report in reports:
                    if _plain(report):
                        run.append(report)
                        continue
                    await self._apply_plain(run)
                    run = []
                    await self._handle_report(report)
                await self._apply_plain(run)
        finally:
            # No await since ``answers`` was last found empty: nothing is left behind.
            for client_order_id in client_order_ids:
                self._answers.pop(client_order_id, None)

    async def _apply_plain(self, reports: list[ExecutionReport]) -> None:
        """Apply status-only reports of our working orders and store them in one commit."""
        if not reports:
            return
        async with AsyncExitStack() as held:
            for client_order_id in dict.fromkeys(r.client_order_id for r in reports):
                await held.enter_async_context(self._lock(client_order_id))
            changes, others = await self._store_plain(reports)
        if changes:
            await self.relay.deliver([m for change in changes for m in change.outbox])
        for report in others:
            await self._handle_report(report)

    async def _store_plain(
        self, reports: list[ExecutionReport]
    ) -> tuple[list[StatusChange], list[ExecutionReport]]:
        """The changes stored together, and the reports left to the general path (locked)."""
        changes: list[StatusChange] = []
        others: list[ExecutionReport] = []
        before: dict[str, tuple[Order, _OrderState]] = {}
        duplicates = 0
        for report in reports:
            order = self._open.get(report.client_order_id)
            if order is None:
                others.append(report)  # no longer working: the general path decides
                continue
            before.setdefault(order.client_order_id, (order, _OrderState.of(order)))
            change = self._plain_change(order, report)
            if change is None:
                duplicates += 1
            else:
                changes.append(change)
        try:
            if changes:
                await self._orders.save_transitions(changes)
        except BaseException as exc:
            for order, state in before.values():
                state.restore(order)
            if isinstance(exc, StorageUnavailable) or not isinstance(exc, StorageError):
                raise
            # A stale order among them: each report alone, as if it came by itself.
            log.warning("%d venue answers not stored together: %s", len(reports), exc)
            return [], reports
        self.stats.reports += len(reports) - len(others)
        self.stats.duplicate_reports += duplicates
        for order, _ in before.values():
            self._settled(order)
        return changes, others

    def _plain_change(self, order: Order, report: ExecutionReport) -> StatusChange | None:
        """``report`` applied to ``order`` in memory; None when it changes nothing (a replay)."""
        if report.venue_order_id and order.venue_order_id is None:
            order.venue_order_id = report.venue_order_id
        if report.status is order.status or not order.can_transition(report.status):
            return None
        previous = order.transition(report.status, report.ts, report.reason)
        messages = [self._status_message(order, previous)]
        return StatusChange(copy(order), previous, report.reason, messages)

    async def _submit(self, order: Order) -> None:
        """Hand a stored SUBMITTED order to the venue; UNKNOWN when the call fails."""
        try:
            failure = await self._send(order)
            if failure is not None:
                await self._mark_unknown(order, failure)
        finally:
            self._in_flight.discard(order.client_order_id)

    async def _screen(self, signal: Signal, client_order_id: str) -> Instrument | None:
        """The signal's instrument when it may become an order; None (counted) when not."""
        if client_order_id in self._open:
            self._skip("duplicate signal")
            return None
        instrument = self._instruments.get(signal.instrument_id)
        if instrument is None:
            self._skip("unknown instrument")
            log.warning("signal for unknown instrument %s ignored", signal.instrument_id)
            return None
        halt = await self.guard.halted()
        if halt is not None:
            self._skip("account halted")
            log.warning("signal %s not traded: %s", signal.signal_id, _halted(halt))
            return None
        return instrument

    async def _plan(
        self, side: Side, instrument_id: str, instrument: Instrument, event: SignalEvent
    ) -> OrderPlan | str:
        working = [o for o in self._open.values() if o.instrument_id == instrument_id]
        if any(o.side is side for o in working):
            return f"{side} order already working"
        account = await self._account.state()
        held = account.positions.get(instrument_id, Decimal(0))
        if side is Side.BUY and held > 0:
            return "already holding"
        sellable = Decimal(0)
        if side is Side.SELL:
            sellable = await self._sellable(instrument_id, held)
        if any(o.side is side for o in self._open.values() if o.instrument_id == instrument_id):
            return f"{side} order already working"  # placed while the account was asked
        return plan_order(
            event.signal,
            instrument,
            self._sizing,
            available_cash=self._reservations.buying_power(
                account, self._open.values(), event.signal.price, fees_inside=self._sizing.all_cash
            ),
            sellable=sellable,
        )

    async def _sellable(self, instrument_id: str, venue_held: Decimal) -> Decimal:
        """Sized from our own books (our recorded fills), never from the venue's report alone."""
        own = await self._own.net(instrument_id)
        reserved = sum(
            (
                o.quantity - o.filled_quantity
                for o in self._open.values()
                if o.instrument_id == instrument_id and o.side is Side.SELL
            ),
            Decimal(0),
        )
        if own != venue_held:
            log.warning(
                "%s: the venue reports %s held, our books %s; selling from our books",
                instrument_id,
                venue_held,
                own,
            )
        return sellable_quantity(own, reserved, venue_held)

    def _skip(self, reason: str) -> None:
        # Keyed by the kind of reason: amounts in the text would make a key per signal.
        kind = reason.split(":", 1)[0]
        self.stats.skipped[kind] = self.stats.skipped.get(kind, 0) + 1
        log.debug("signal skipped: %s", reason)

    # -- orders.pending -> venue ---------------------------------------------------------

    async def handle_pending(self, event: Event) -> None:
        if not isinstance(event, OrderPending):
            return
        async with self._lock(event.client_order_id):
            order = self._open.get(event.client_order_id)
            if order is None:
                order = await self._orders.get(event.order_id)
            if order is None or order.status is not OrderStatus.NEW:
                return  # already routed (replayed event): never send twice
            halt = await self.guard.halted()
            if halt is not None:
                await self._refuse_halted(order, halt)
                return
            self._open[order.client_order_id] = order
            # In flight from the moment it is SUBMITTED until the venue call returns.
            self._in_flight.add(order.client_order_id)
            previous = order.transition(OrderStatus.SUBMITTED, self._clock.timestamp_ns())
            messages = [self._status_message(order, previous)]
            try:
                await self._orders.save_transition(order, previous, outbox=messages)
            except BaseException as exc:
                # Still NEW in the store: forget our SUBMITTED copy (the next path reloads it).
                self._in_flight.discard(order.client_order_id)
                self._open.pop(order.client_order_id, None)
                if not isinstance(exc, StorageUnavailable):
                    raise
                await self._dead_letter(topics.ORDERS_PENDING, self.ROUTER_GROUP, event, exc)
                return
        await self.relay.deliver(messages)
        await self._submit(order)

    async def _refuse_halted(self, order: Order, halt: TradingHalt) -> None:
        """Stored before the halt and not sent: never sent (a resume must not send it stale)."""
        reason = f"not sent: {_halted(halt)}"
        previous = order.transition(OrderStatus.REJECTED, self._clock.timestamp_ns(), reason)
        messages = [self._status_message(order, previous)]
        await self._orders.save_transition(order, previous, reason=reason, outbox=messages)
        self._open.pop(order.client_order_id, None)
        log.warning("order %s %s", order.client_order_id, reason)
        await self.relay.deliver(messages)

    async def _dead_letter(
        self, topic: str, group: str, event: Event, error: StorageUnavailable
    ) -> None:
        """Park ``event`` where the failed store is not, and say so loudly."""
        reason = f"gave up waiting for the store: {error}"
        log.error(
            "%s %s (key %s) dead-lettered by %s: %s",
            event.type,
            event.event_id,
            event.key,
            group,
            reason,
        )
        if self._dead_letters is None:
            log.error("no dead-letter file configured; the event was: %r", event)
            return
        letter = DeadLetter(topic, group, event, reason, self._clock.timestamp_ns())
        await self._dead_letters.record(letter)

    async def _mark_unknown(self, order: Order, reason: str) -> None:
        async with self._lock(order.client_order_id):
            if not order.can_transition(OrderStatus.UNKNOWN):
                return
            previous = order.transition(OrderStatus.UNKNOWN, self._clock.timestamp_ns(), reason)
            messages = [self._status_message(order, previous)]
            await self._orders.save_transition(order, previous, reason=reason, outbox=messages)
        self.stats.unknown += 1
        log.warning("order %s is UNKNOWN: %s", order.client_order_id, reason)
        await self.relay.deliver(messages)

    # -- modify --------------------------------------------------------------------------

    async def modify(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
    ) -> None:
        """Ask the venue to reprice and/or trim a working order (``quantity`` is the total).

        The stored order changes only when the venue's report says it did, so a modify
        lost on the way leaves the books as the venue has them. Raises InvalidOrder for a
        change no venue could make, and whatever the venue call raised (the order then
        works on unchanged, or reconciliation finds out what happened).
        """
        async with self._lock(client_order_id):
            order = self._open.get(client_order_id) or await self._orders.get_by_client_id(
                client_order_id
            )
            if order is None:
                raise UnknownOrder(f"no order {client_order_id} to modify")
            order.check_amendment(price, quantity)
            if order.status is OrderStatus.NEW or client_order_id in self._in_flight:
                raise InvalidOrder(
                    f"{client_order_id} is not yet at the venue ({order.status}); modify it "
                    "once the venue has accepted it"
                )
            order = self._open.setdefault(client_order_id, order)
            self._modifying[client_order_id] = (price, quantity)
        try:
            await self._client.modify_order(order, price=price, quantity=quantity)
        except BaseException:
            self._modifying.pop(client_order_id, None)
            raise

    # -- venue reports -------------------------------------------------------------------

    async def handle_report(self, report: ExecutionReport) -> None:
        if report.fill is not None or report.status.is_terminal:
            self._account.moved()  # the venue's cash, holdings or reservations changed
        answers = self._answers.get(report.client_order_id)
        if answers is not None:
            answers.append(report)  # an answer to a batch being sent: stored with it (_place)
            return
        await self._handle_report(report)

    async def _handle_report(self, report: ExecutionReport) -> None:
        self.stats.reports += 1
        async with self._lock(report.client_order_id):
            order = self._open.get(report.client_order_id)
            if order is None:
                order = await self._orders.get_by_client_id(report.client_order_id)
                if order is not None and order.status.is_open:
                    # One object per open order, shared by every path that changes it.
                    order = self._open.setdefault(order.client_order_id, order)
            if order is None:
                await self.guard.foreign(
                    FOREIGN_ORDER,
                    f"the venue reports {report.status} for an order this platform did not place",
                    client_order_id=report.client_order_id,
                    venue_order_id=report.venue_order_id,
                    instrument_id=report.fill.instrument_id if report.fill else None,
                )
                return
            foreign_cancel = _is_foreign_cancel(order, report)
            if foreign_cancel:
                report = replace(report, reason=FOREIGN_CANCEL_REASON)
            foreign_modify = _amends(report) and order.client_order_id not in self._modifying
            if foreign_modify:
                report = replace(report, reason=FOREIGN_MODIFY_REASON)
            outcome = await self._apply(order, report)
            if foreign_modify and outcome is not None:
                await self.guard.foreign(
                    FOREIGN_MODIFY,
                    f"the venue changed our order to {order.quantity} at {order.price} without "
                    "a request from this platform",
                    client_order_id=order.client_order_id,
                    venue_order_id=order.venue_order_id,
                    instrument_id=order.instrument_id,
                )
            if foreign_cancel and outcome is not None:
                await self.guard.foreign(
                    FOREIGN_CANCEL,
                    "the venue canceled our order without a request from this platform",
                    client_order_id=order.client_order_id,
                    venue_order_id=order.venue_order_id,
                    instrument_id=order.instrument_id,
                )
            self._settled(order)
        if outcome is None:
            self.stats.duplicate_reports += 1
            return
        if len(outcome) > 1:
            self.stats.fills += 1
        await self.relay.deliver(outcome)

    def _settled(self, order: Order) -> None:
        """After a report: a finished order stops working, a modify shown done is over."""
        if order.status.is_terminal:
            self._open.pop(order.client_order_id, None)
            self._reservations.finished(order.client_order_id)
            self._locks.pop(order.client_order_id, None)
            self._modifying.pop(order.client_order_id, None)
        elif _reached(order, self._modifying.get(order.client_order_id)):
            del self._modifying[order.client_order_id]

    async def _apply(self, order: Order, report: ExecutionReport) -> list[OutboxMessage] | None:
        """Apply and persist ``report``; the events it committed, or None for a replay."""
        if _amends(report):
            return await self._amend(order, report)
        if report.venue_order_id and order.venue_order_id is None:
            order.venue_order_id = report.venue_order_id
        if report.fill is not None:
            fill = _bind(report.fill, order)
            snapshot = (order.status, order.filled_quantity, order.avg_fill_price, order.updated_ts)
            try:
                previous = order.apply_fill(fill)
            except (DomainError, ValueError) as exc:
                # A replay of a fill of a completed order overfills it (InvalidOrder): the
                # order must stay as stored and the venue's delivering call must not fail.
                order.status, order.filled_quantity, order.avg_fill_price, order.updated_ts = (
                    snapshot
                )
                # A completed order overfilled is a replay (reconciliation got there first);
                # anything else is a venue report that contradicts our books.
                report_log = log.debug if snapshot[0] is OrderStatus.FILLED else log.warning
                report_log("fill %s not applied to %s: %s", fill.fill_id, order.order_id, exc)
                return None
            messages = [
                self._status_message(order, previous),
                OutboxMessage(
                    topics.FILLS,
                    FillEvent.from_fill(fill, ts=self._clock.timestamp_ns(), source=self.name),
                ),
            ]
            try:
                stored = await self._orders.save_transition(
                    order, previous, fill=fill, outbox=messages
                )
            except BaseException:
                self._own.doubt(fill.instrument_id)  # the commit may have happened
                raise
            if not stored:
                # A replay, or our own commit whose answer was lost: the store knows which.
                self._own.doubt(fill.instrument_id)
                order.status, order.filled_quantity, order.avg_fill_price, order.updated_ts = (
                    snapshot
                )
                return None
            self._own.booked(fill)
            return messages
        if report.status is order.status or not order.can_transition(report.status):
            return None
        previous = order.transition(report.status, report.ts, report.reason)
        messages = [self._status_message(order, previous)]
        await self._orders.save_transition(order, previous, reason=report.reason, outbox=messages)
        return messages

    async def _amend(self, order: Order, report: ExecutionReport) -> list[OutboxMessage] | None:
        """Take the terms the venue gave the order; None for a replay or a finished order."""
        price = order.price if report.price is None else report.price
        quantity = order.quantity if report.quantity is None else report.quantity
        venue_order_id = report.venue_order_id or order.venue_order_id
        if not order.status.is_open or (price, quantity, venue_order_id) == (
            order.price,
            order.quantity,
            order.venue_order_id,
        ):
            return None
        if report.ts < order.updated_ts:
            # Older than what the order already shows (a restarted adapter replaying the
            # day's events): those terms were taken or overtaken; reconciliation compares
            # the venue's current ones.
            log.debug("stale modify report for %s ignored", order.client_order_id)
            return None
        if quantity < order.filled_quantity:
            log.warning(
                "order %s: the venue reports %s in all, below the %s we recorded filled; "
                "not applied (reconciliation compares the fills)",
                order.client_order_id,
                quantity,
                order.filled_quantity,
            )
            return None
        snapshot = (order.price, order.quantity, order.venue_order_id, order.reason)
        snapshot_ts = order.updated_ts
        reason = report.reason or MODIFIED_ON_REQUEST
        order.price, order.quantity, order.venue_order_id = price, quantity, venue_order_id
        order.reason, order.updated_ts = reason, report.ts
        messages = [self._status_message(order, order.status)]
        try:
            await self._orders.save_transition(order, order.status, reason=reason, outbox=messages)
        except BaseException:
            order.price, order.quantity, order.venue_order_id, order.reason = snapshot
            order.updated_ts = snapshot_ts
            raise
        log.info(
            "order %s now %s at %s (venue order %s)",
            order.client_order_id,
            quantity,
            price,
            venue_order_id,
        )
        return messages

    def _status_message(self, order: Order, previous: OrderStatus | None) -> OutboxMessage:
        return OutboxMessage(
            topics.ORDERS_EVENTS,
            OrderStatusChanged.from_order(
                order, previous, ts=self._clock.timestamp_ns(), source=self.name
            ),
        )

    # -- reconciliation ------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Bring every open order in line with the venue; returns how many changed.

        Deferred while the clock reads 0: what it finds would be stamped 1970-01-01. The
        next signal after the clock moves runs it. Loud only when orders are waiting: a
        fresh start before its first bar has nothing to reconcile.
        """
        now = self._clock.timestamp_ns()
        if now <= 0:
            self._reconcile_deferred = True
            log.log(
                logging.ERROR if self._open else logging.INFO,
                "reconciliation deferred: the clock has no market time yet (%d); %d open"
                " order(s) wait until it has one",
                now,
                len(self._open),
            )
            return 0
        self._reconcile_deferred = False
        self._account.moved()
        changed = 0
        for order in list(self._open.values()):
            if order.status is OrderStatus.NEW or order.client_order_id in self._in_flight:
                continue  # not yet routed, or on its way: its own path reports on it
            reports = await reconcile_order(order, self._client, self._clock.timestamp_ns())
            for report in reports:
                before = order.status
                try:
                    await self.handle_report(report)
                except StorageError as exc:
                    # Our copy was stale: take the stored order and let the next round decide.
                    log.warning("reconciling %s: %s", order.client_order_id, exc)
                    await self._reload(order.client_order_id)
                    break
                changed += order.status is not before
        await self._find_foreign()
        return changed

    async def _find_foreign(self) -> None:
        """Open orders at the venue that are not in our orders table are foreign."""
        try:
            listed = await self._client.open_orders()
        except BrokerError as exc:
            log.warning("open orders at the venue not checked for foreign ones: %s", exc)
            return
        ours = {o.venue_order_id for o in self._open.values() if o.venue_order_id}
        for report in listed:
            cid = report.client_order_id
            if cid and (cid in self._open or await self._orders.get_by_client_id(cid)):
                continue
            if not cid and report.venue_order_id in ours:
                continue
            await self.guard.foreign(
                FOREIGN_ORDER,
                f"an open {report.side} of {report.quantity} at the venue that this platform "
                "did not place",
                client_order_id=cid,
                venue_order_id=report.venue_order_id or None,
                instrument_id=report.instrument_id,
            )

    async def _reload(self, client_order_id: str) -> None:
        async with self._lock(client_order_id):
            stored = await self._orders.get_by_client_id(client_order_id)
            if stored is None or not stored.status.is_open:
                self._open.pop(client_order_id, None)
            else:
                self._open[client_order_id] = stored

    @property
    def open_orders(self) -> list[Order]:
        return list(self._open.values())


@dataclass(frozen=True, slots=True)
class _OrderState:
    """What a status report changes in an order, to put back when storing it failed."""

    status: OrderStatus
    updated_ts: int
    reason: str | None
    venue_order_id: str | None

    @classmethod
    def of(cls, order: Order) -> _OrderState:
        return cls(order.status, order.updated_ts, order.reason, order.venue_order_id)

    def restore(self, order: Order) -> None:
        order.status, order.updated_ts = self.status, self.updated_ts
        order.reason, order.venue_order_id = self.reason, self.venue_order_id


@dataclass(slots=True)
class _Staged:
    """A signal sized into an order that is not stored yet, and the events announcing it."""

    event: SignalEvent
    order: Order
    messages: list[OutboxMessage]


FOREIGN_CANCEL_REASON = "canceled at the venue without a request from this platform (foreign)"
FOREIGN_MODIFY_REASON = "modified at the venue without a request from this platform (foreign)"


def _amends(report: ExecutionReport) -> bool:
    """A report of a modify: new terms, no execution."""
    return report.fill is None and (report.price is not None or report.quantity is not None)


def _plain(report: ExecutionReport) -> bool:
    """A report that only moves an order's status (a cancel may be foreign: not plain)."""
    return report.fill is None and not _amends(report) and report.status is not OrderStatus.CANCELED


def _signal_order(event: SignalEvent) -> tuple[int, str, str, str, str]:
    """The order in which competing signals get cash: defined by content, not delivery."""
    s = event.signal
    return (s.ts, s.instrument_id, s.strategy_id, s.side, s.signal_id)


def _reached(order: Order, asked: tuple[Decimal | None, Decimal | None] | None) -> bool:
    """Whether the order now has every term a pending modify asked for."""
    if asked is None:
        return False
    price, quantity = asked
    return (price is None or order.price == price) and (
        quantity is None or order.quantity == quantity
    )


def _is_foreign_cancel(order: Order, report: ExecutionReport) -> bool:
    """A cancel someone asked the venue for while this platform asked for none.

    The platform never cancels an order itself (strategies do not cancel), so a requested
    cancel of a live order is someone else's. The venue's own cancels (an IOC remainder,
    cash short at the fill price) are not. A cancel path, when one is added, must exempt
    its own requests.
    """
    return (
        report.status is OrderStatus.CANCELED
        and order.status.is_open
        and report.reason == CANCELED_ON_REQUEST
    )


def _halted(halt: TradingHalt) -> str:
    return (
        f"account {halt.account} is halted ({halt.summary}); after checking the account, "
        f"resume with `jts orders resume {halt.account} --reason ...`"
    )


def _bind(fill: Fill, order: Order) -> Fill:
    """Venues know our client id, not our order id: attach it."""
    if fill.order_id == order.order_id:
        return fill
    return replace(fill, order_id=order.order_id, client_order_id=order.client_order_id)
