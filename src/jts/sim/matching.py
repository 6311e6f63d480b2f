"""The one deterministic matching engine, shared by the paper venue and the backtester.

Rules (the same for every caller, so paper results and backtests agree):

- Causality: an order accepted at time ``t`` is matched only against market
  data that STARTS at or after ``t`` (``bar.ts >= t`` or ``tick.ts >= t``), so
  never against the bar whose close produced the signal.
- MARKET orders fill at the next bar's open (or the tick's price). A LIMIT buy
  fills when the bar's low <= limit, at min(limit, open); a LIMIT sell when the
  high >= limit, at max(limit, open): a gap through the limit gives the open.
- Liquidity: market orders are TAKER; a limit order that is marketable at the
  open of the first data it may trade against (it crossed on arrival) is TAKER
  for that fill; fills of a resting order are MAKER.
- Volume: per bar, our fills in one instrument total at most
  ``participation_rate`` x bar volume (rounded down to the lot), shared in
  acceptance order; per tick at most the tick's size. The rest keeps working
  (PARTIALLY_FILLED, then FILLED).
- Submit-time checks (lot, tick grid, daily limit, trading hours, cash,
  position) reject with a reason; they never raise. A duplicate
  ``client_order_id`` never creates a second order: the existing state is
  reported again.
- A modify lowers the quantity in place or reprices as a new order (new venue
  id, back of the queue, checked again); a refused modify raises InvalidOrder.
- DAY orders open when their session ends are EXPIRED at the first data of a
  later session, or by ``end_of_session``. IOC remainders are canceled after
  their first matching opportunity.
- A market BUY with a ``quote_quantity`` spends that cash: at the fill price (the
  open, slipped like any market fill) it
  buys the most units the cash pays for, commission included (quantity =
  cash / (price x (1 + commission rate)), floored to the quantity unit), and
  is done with that one execution.
- ``MatchingConfig.rules`` says which venue rules apply (``AccountRules``): the
  research account drops lots, ticks, limits, trading hours and the volume cap.
- Slippage (``MatchingConfig.slippage``, jts.sim.slippage) moves the fill price
  against the order, but never past its limit, never outside the data's low..high
  and never in its favour.
- Every fill pays commission and tax from the FeeSchedule (tax by settlement
  date, T + ``settlement_days`` sessions) and is booked in the SimAccount.
  Buy orders reserve price x quantity + fees (market orders: last price x
  (1 + buffer)); if a market buy's fill would cost more cash than is free, it
  fills what the cash covers and the remainder is canceled.
- Report and fill times are when the simulator learns of them: a bar's close
  time, a tick's time. Ids are deterministic: orders ``{prefix}-O{n}``, fills
  ``{prefix}-{n}``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from decimal import ROUND_CEILING
from decimal import Decimal

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import InvalidOrder
from jts.domain.errors import UnknownOrder
from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.orders import Order
from jts.domain.reports import CANCELED_ON_REQUEST
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import ExecutionReport
from jts.domain.ticks import fmt
from jts.domain.timestamps import ns_to_dt
from jts.ports.calendar import TradingCalendar
from jts.sim import rules
from jts.sim.account import SimAccount
from jts.sim.fees import FeeSchedule
from jts.sim.rules import VENUE_RULES
from jts.sim.rules import AccountRules
from jts.sim.slippage import NoSlippage
from jts.sim.slippage import SlippageModel

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MatchingConfig:
    participation_rate: Decimal = Decimal("0.10")
    # Head-room over the last price when reserving cash for a market buy.
    market_order_buffer: Decimal = Decimal("0.05")
    # Sessions from trade to transfer (KRX: T+2); the sell tax follows the transfer date.
    settlement_days: int = 2
    # Prefix of venue order ids and fill ids; defaults to the engine's venue.
    id_prefix: str | None = None
    rules: AccountRules = VENUE_RULES
    # How much worse than the book's price a fill is (jts.sim.slippage); none by default.
    slippage: SlippageModel = field(default_factory=NoSlippage)
    # Closed orders and fills are answered for (``order``, ``fills``) from the current
    # session and this many before it, as a broker answers for recent days; None keeps
    # them all. A long backtest sets a bound, or the venue's history grows with the run.
    history_sessions: int | None = None


@dataclass(slots=True)
class _Working:
    """An accepted order on the book and what it has set aside."""

    order: Order
    instrument: Instrument
    accepted_ts: int
    session: date
    unit_price: Decimal  # price per unit the cash reservation assumes (buys)
    reserved_cash: Decimal = ZERO
    reserved_qty: Decimal = ZERO
    touched: bool = False  # has met data it may trade against


_Selector = Callable[[_Working], bool]


@dataclass(slots=True)
class _Quote:
    last: Decimal | None = None
    reference: Decimal | None = None  # previous session's close: the daily-limit base
    session: date | None = None


class MatchingEngine:
    """Matches orders against bars and ticks; output is a list of ExecutionReports."""

    def __init__(
        self,
        venue: str,
        instruments: Iterable[Instrument],
        calendar: TradingCalendar,
        account: SimAccount,
        fees: FeeSchedule | None = None,
        config: MatchingConfig | None = None,
    ) -> None:
        self.venue = venue
        self.calendar = calendar
        self.account = account
        self.fees = fees or FeeSchedule.default()
        self.config = config or MatchingConfig()
        self.rules = self.config.rules
        self._prefix = self.config.id_prefix or venue
        self._instruments: dict[str, Instrument] = {}
        self._quotes: dict[str, _Quote] = {}
        self._orders: dict[str, Order] = {}
        self._working: dict[str, _Working] = {}
        self._book: dict[str, list[_Working]] = {}
        self._fills: list[Fill] = []
        self._order_seq = 0
        self._fill_seq = 0
        self._session: date | None = None
        self._span: tuple[int, int, date | None] = (0, 0, None)
        self._settlements: dict[date, date] = {}
        # First data time of the sessions whose history is kept (``history_sessions``).
        self._session_starts: deque[int] = deque()
        for instrument in instruments:
            self.add_instrument(instrument)

    # -- set-up and queries ----------------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        self._instruments[instrument.key] = instrument
        self._quotes.setdefault(instrument.key, _Quote())

    def instrument(self, instrument_id: str) -> Instrument | None:
        return self._instruments.get(instrument_id)

    def set_reference(self, instrument_id: str, price: Decimal) -> None:
        """The previous close that the first session's daily limit is measured from."""
        self._quotes.setdefault(instrument_id, _Quote()).reference = price

    def reference_price(self, instrument_id: str) -> Decimal | None:
        quote = self._quotes.get(instrument_id)
        return None if quote is None else quote.reference

    def last_price(self, instrument_id: str) -> Decimal | None:
        quote = self._quotes.get(instrument_id)
        return None if quote is None else quote.last

    def order(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def orders(self) -> list[Order]:
        return list(self._orders.values())

    def open_orders(self) -> list[Order]:
        return [working.order for working in self._working.values()]

    def fills(self, since_ns: int = 0) -> list[Fill]:
        return [fill for fill in self._fills if fill.ts >= since_ns]

    # -- order entry -----------------------------------------------------------------------

    def submit(self, order: Order, ts: int) -> list[ExecutionReport]:
        existing = self._orders.get(order.client_order_id)
        if existing is not None:
            reason = "duplicate client_order_id: the order already exists and was not placed again"
            return [self._report(existing, ts, reason=reason)]
        self._order_seq += 1
        # The venue's own copy (``copy``, not ``replace``: the caller's order was checked).
        own = copy(order)
        own.status = OrderStatus.SUBMITTED
        own.filled_quantity = ZERO
        own.avg_fill_price = None
        own.venue_order_id = f"{self._prefix}-O{self._order_seq}"
        own.reason = None
        own.updated_ts = ts or own.created_ts  # as ``__post_init__`` reads a 0
        self._orders[own.client_order_id] = own
        working = self._admit(own, ts)
        if isinstance(working, str):
            own.transition(OrderStatus.REJECTED, ts, working)
            return [self._report(own, ts, reason=working)]
        own.transition(OrderStatus.ACCEPTED, ts)
        self._working[own.client_order_id] = working
        self._book.setdefault(own.instrument_id, []).append(working)
        return [self._report(own, ts)]

    def cancel(self, client_order_id: str, ts: int) -> list[ExecutionReport]:
        order = self._orders.get(client_order_id)
        if order is None:
            raise UnknownOrder(f"{self.venue}: no order with client_order_id {client_order_id}")
        working = self._working.get(client_order_id)
        if working is None:
            return [self._report(order, ts, reason=f"cannot cancel: order is {order.status}")]
        return [self._close(working, OrderStatus.CANCELED, ts, CANCELED_ON_REQUEST)]

    def modify(
        self,
        client_order_id: str,
        ts: int,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
    ) -> list[ExecutionReport]:
        """Change a working order's limit price and/or lower its total quantity, as KRX does.

        A lower quantity keeps the order's number and its place in the queue. A new
        price is a new order at the venue: a new venue order id, the back of the
        queue, checked again against the ladder and the daily limit, and matched
        only against data from ``ts`` on. A change the venue would refuse raises
        InvalidOrder and leaves the order, and what it reserved, as it was.
        """
        order = self._orders.get(client_order_id)
        if order is None:
            raise UnknownOrder(f"{self.venue}: no order with client_order_id {client_order_id}")
        working = self._working.get(client_order_id)
        if working is None:
            raise InvalidOrder(f"{client_order_id}: cannot modify an order that is {order.status}")
        order.check_amendment(price, quantity)
        repriced = price is not None and price != order.price
        if repriced:
            quote = self._quotes[working.instrument.key]
            candidate = replace(order, price=price)
            reason = rules.static_problem(
                candidate, working.instrument, ts, self.calendar, quote.reference, self.rules
            )
            if reason is not None:
                raise InvalidOrder(f"{client_order_id}: modify refused: {reason}")
        leaves = (order.quantity if quantity is None else quantity) - order.filled_quantity
        if order.side is Side.BUY:
            unit_price = price if repriced and price is not None else working.unit_price
            trial = replace(working, unit_price=unit_price)
            required = self._buy_reserve(trial, leaves, working.session)
            self.account.release_cash(working.reserved_cash)
            if not self.account.can_reserve_cash(required):
                available = self.account.available_cash
                self.account.reserve_cash(working.reserved_cash)
                shortfall = rules.cash_shortfall(required, available, self.account.currency)
                raise InvalidOrder(f"{client_order_id}: modify refused: {shortfall}")
            self.account.reserve_cash(required)
            working.reserved_cash = required
            working.unit_price = unit_price
        else:
            released = max(working.reserved_qty - leaves, ZERO)
            self.account.release_quantity(order.instrument_id, released)
            working.reserved_qty -= released
        order.amend(price, quantity, ts)
        if repriced:
            self._order_seq += 1
            order.venue_order_id = f"{self._prefix}-O{self._order_seq}"
            working.accepted_ts = ts
            working.touched = False
            book = self._book[order.instrument_id]
            book.remove(working)
            book.append(working)
        report = self._report(order, ts, reason=MODIFIED_ON_REQUEST)
        return [replace(report, price=order.price, quantity=order.quantity)]

    def end_of_session(self, ts: int) -> list[ExecutionReport]:
        """Expire every open DAY order now (the caller knows the session is over)."""
        return self._expire(lambda working: True, ts)

    # -- market data -----------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> list[ExecutionReport]:
        instrument_id = bar.instrument_id
        if not self._book.get(instrument_id):
            # Nothing working on it, in the session already seen: only the quote moves.
            quote = self._quotes.get(instrument_id)
            opened, closed, cached = self._span
            if (
                quote is not None
                and cached is not None
                and opened <= bar.ts < closed
                and quote.session == cached
                and self._session == cached
            ):
                quote.last = bar.close
                return []
        budget: Decimal | None = ZERO
        # Only working orders spend the budget: without any, it need not be worked out.
        if self._book.get(bar.instrument_id):
            instrument = self._instruments.get(bar.instrument_id)
            if instrument is not None:
                budget = self._budget(instrument, bar.volume * self.config.participation_rate)
        return self._on_data(
            bar.instrument_id, bar.ts, bar.close_ts, bar.open, bar.high, bar.low, bar.close, budget
        )

    def on_tick(self, tick: Tick) -> list[ExecutionReport]:
        instrument = self._instruments.get(tick.instrument_id)
        budget = ZERO if instrument is None else self._budget(instrument, tick.size)
        price = tick.price
        return self._on_data(
            tick.instrument_id, tick.ts, tick.ts, price, price, price, price, budget
        )

    def _budget(self, instrument: Instrument, volume: Decimal) -> Decimal | None:
        """What our fills in one bar or tick may total; None: no volume cap."""
        if not self.rules.volume_limit:
            return None
        return self.rules.round_quantity(volume, instrument)

    def _on_data(
        self,
        instrument_id: str,
        start: int,
        now: int,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        budget: Decimal | None,
    ) -> list[ExecutionReport]:
        quote = self._quotes.get(instrument_id)
        if quote is None:  # not ``setdefault``: that would build a quote per bar
            quote = self._quotes[instrument_id] = _Quote()
        opened, closed, cached = self._span  # ``_session_at``'s cache, looked at inline
        session = cached if opened <= start < closed else self._session_at(start)
        reports: list[ExecutionReport] = []
        if session is not None:
            if self._session is None or session > self._session:
                if self.rules.trading_hours:  # without sessions, DAY orders never expire
                    reports += self._expire(lambda working: working.session < session, now)
                self._session = session
                self._forget_old_history(start)
            if quote.session != session:
                if quote.session is not None and quote.last is not None:
                    quote.reference = quote.last
                quote.session = session
            book = self._book.get(instrument_id)
            if book:
                reports += self._match(book, session, start, now, open_, high, low, budget)
        quote.last = close
        return reports

    def _forget_old_history(self, session_start: int) -> None:
        """At a new session: drop closed orders and fills older than the sessions kept."""
        keep = self.config.history_sessions
        if keep is None:
            return
        starts = self._session_starts
        starts.append(session_start)
        if len(starts) <= keep + 1:
            return
        starts.popleft()
        cutoff = starts[0]
        self._orders = {
            key: order
            for key, order in self._orders.items()
            if key in self._working or order.updated_ts >= cutoff
        }
        self._fills = [fill for fill in self._fills if fill.ts >= cutoff]

    def _session_at(self, ts: int) -> date | None:
        """The session of ``ts``; remembers the last session's bounds to skip the calendar."""
        opened, closed, cached = self._span
        if opened <= ts < closed:
            return cached
        session = self.calendar.session_of(ts)
        if session is not None:
            opened, closed = self.calendar.session_bounds(session)
            self._span = (opened, closed, session)
        elif not self.rules.trading_hours:
            session = ns_to_dt(ts).date()  # no trading hours: the UTC day dates the fees
        return session

    # -- matching --------------------------------------------------------------------------

    def _match(
        self,
        book: list[_Working],
        session: date,
        start: int,
        now: int,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        budget: Decimal | None,
    ) -> list[ExecutionReport]:
        reports: list[ExecutionReport] = []
        for working in list(book):
            if working.accepted_ts > start:
                continue
            order = working.order
            first_touch = not working.touched
            working.touched = True
            if order.quote_quantity is not None:
                reports += self._spend(working, open_, high, low, session, now, budget)
                if budget is not None and not order.is_open:
                    budget -= order.filled_quantity
                continue
            price = _fill_price(order, open_, high, low)
            if price is not None and (budget is None or budget > 0):
                taker = order.order_type is OrderType.MARKET or (first_touch and price == open_)
                liquidity = LiquiditySide.TAKER if taker else LiquiditySide.MAKER
                price = self._slipped(working, session, price, high, low)
                wanted = (
                    order.leaves_quantity if budget is None else min(order.leaves_quantity, budget)
                )
                quantity, short_of_cash = self._affordable(
                    working, wanted, price, liquidity, session
                )
                if quantity > 0:
                    reports.append(
                        self._fill(working, quantity, price, liquidity, session, now, short_of_cash)
                    )
                    if budget is not None:
                        budget -= quantity
                if short_of_cash and order.is_open:
                    reason = f"insufficient cash at fill price {fmt(price)}; rest canceled"
                    reports.append(self._close(working, OrderStatus.CANCELED, now, reason))
            if order.is_open and order.time_in_force is TimeInForce.IOC:
                reason = "IOC: unfilled remainder canceled"
                reports.append(self._close(working, OrderStatus.CANCELED, now, reason))
        return reports

    def _spend(
        self,
        working: _Working,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        session: date,
        now: int,
        budget: Decimal | None,
    ) -> list[ExecutionReport]:
        """Fill an order spending a cash amount at the slipped open, in one execution."""
        order = working.order
        assert order.quote_quantity is not None
        price = self._slipped(working, session, open_, high, low)
        quantity = self._quote_fill_quantity(working, order.quote_quantity, price, session)
        if budget is not None:
            quantity = min(quantity, budget)
        if quantity <= 0:
            reason = (
                f"{fmt(order.quote_quantity)} {self.account.currency} buys less than one unit "
                f"at {fmt(price)}"
            )
            return [self._close(working, OrderStatus.CANCELED, now, reason)]
        return [self._fill(working, quantity, price, LiquiditySide.TAKER, session, now, True)]

    def _quote_fill_quantity(
        self, working: _Working, cash: Decimal, price: Decimal, session: date
    ) -> Decimal:
        """The most units ``cash`` pays for at ``price`` with the taker commission on top."""
        instrument = working.instrument
        rate = self.fees.commission_rate(instrument, session, LiquiditySide.TAKER)
        quantity = self.rules.round_quantity(cash / (price * (1 + rate)), instrument)
        step = self.rules.quantity_unit or instrument.lot_size
        # Decimal division rounds to 28 digits, which can round up onto the next unit: one
        # unit back then. (A fee truncated to the currency only makes the cost lower.)
        cost = quantity * price + self._commission(
            working, quantity, price, LiquiditySide.TAKER, session
        )
        if quantity > 0 and cost > cash:
            quantity -= step
        return max(quantity, ZERO)

    def _slipped(
        self, working: _Working, session: date, price: Decimal, high: Decimal, low: Decimal
    ) -> Decimal:
        """The slippage model's price, kept inside the limit and the data's low..high."""
        order = working.order
        rule = working.instrument.tick_rule_on(session)
        slipped = self.config.slippage.slip(price, order.side, rule)
        if order.side is Side.BUY:
            bounded = min(slipped, high)
            if order.price is not None:
                bounded = min(bounded, order.price)
            return max(bounded, price)
        bounded = max(slipped, low)
        if order.price is not None:
            bounded = max(bounded, order.price)
        return min(bounded, price)

    def _affordable(
        self,
        working: _Working,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        session: date,
    ) -> tuple[Decimal, bool]:
        """How much of ``quantity`` the cash pays for, and whether cash ran short.

        A limit buy never runs short (it reserved at its limit); a market buy
        can, when the price rose past the reservation buffer.
        """
        order = working.order
        if order.side is Side.SELL or self.account.allow_negative_cash:
            return quantity, False
        cost = quantity * price + self._commission(working, quantity, price, liquidity, session)
        rest = self._buy_reserve(working, order.leaves_quantity - quantity, session)
        if cost <= working.reserved_cash or (
            cost - working.reserved_cash + rest <= self.account.available_cash
        ):
            return quantity, False
        budget = self.account.available_cash + working.reserved_cash
        rate = self._max_commission_rate(working.instrument, session)
        affordable = self.rules.round_quantity(budget / (price * (1 + rate)), working.instrument)
        return min(quantity, max(affordable, ZERO)), True

    def _fill(
        self,
        working: _Working,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        session: date,
        now: int,
        last: bool = False,
    ) -> ExecutionReport:
        """Book an execution; ``last`` means the order's remainder is about to be canceled."""
        order = working.order
        commission, tax = self.fees.costs(
            working.instrument,
            order.side,
            quantity,
            price,
            session,
            self._settlement(session),
            liquidity,
        )
        self._fill_seq += 1
        fill = Fill(
            fill_id=f"{self._prefix}-{self._fill_seq}",
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=commission,
            tax=tax,
            ts=now,
            liquidity=liquidity,
        )
        if order.side is Side.BUY:
            # The fill consumes the reservation; keep what the rest needs (never more than
            # is left of it, unless a market buy outran its buffer and was checked affordable).
            target = ZERO
            if not last:
                target = self._buy_reserve(working, order.leaves_quantity - quantity, session)
            left = working.reserved_cash + fill.cash_delta
            keep = min(target, left) if left >= 0 else target
            self.account.release_cash(working.reserved_cash)
            self.account.apply_fill(fill)
            self.account.reserve_cash(keep)
            working.reserved_cash = keep
        else:
            released = min(quantity, working.reserved_qty)
            self.account.release_quantity(order.instrument_id, released)
            working.reserved_qty -= released
            self.account.apply_fill(fill)
        order.apply_fill(fill)
        self._fills.append(fill)
        if not order.is_open:
            self._unbook(working)
        return self._report(order, now, fill=fill)

    # -- admission and reservations --------------------------------------------------------

    def _admit(self, order: Order, ts: int) -> _Working | str:
        """The order on the book with its reservation made, or why it is rejected."""
        instrument = self._instruments.get(order.instrument_id)
        if instrument is None:
            return f"unknown instrument {order.instrument_id} at {self.venue}"
        quote = self._quotes[instrument.key]
        reason = rules.static_problem(
            order, instrument, ts, self.calendar, quote.reference, self.rules
        )
        session = self._session_at(ts)
        if reason is not None or session is None:
            return reason or f"market closed: no {self.venue} session at {ts}"
        if order.quote_quantity is not None:
            return self._admit_spending(order, instrument, ts, session)
        unit_price = order.price
        if order.order_type is OrderType.MARKET:
            if quote.last is None:
                return f"no last price for {instrument.key} to value a market order"
            unit_price = quote.last * (1 + self.config.market_order_buffer)
        assert unit_price is not None
        return self._reserve(_Working(order, instrument, ts, session, unit_price))

    def _reserve(self, working: _Working) -> _Working | str:
        """Set aside what ``working`` may spend or sell, or say why the account cannot."""
        order, instrument, session = working.order, working.instrument, working.session
        if order.side is Side.BUY:
            required = self._buy_reserve(working, order.quantity, session)
            available = self.account.available_cash
            if not self.account.can_reserve_cash(required):
                return rules.cash_shortfall(required, available, self.account.currency)
            self.account.reserve_cash(required)
            working.reserved_cash = required
        else:
            available = self.account.available_quantity(instrument.key)
            if not self.account.can_reserve_quantity(instrument.key, order.quantity):
                return rules.position_shortfall(instrument.key, order.quantity, available)
            self.account.reserve_quantity(instrument.key, order.quantity)
            working.reserved_qty = order.quantity
        return working

    def _admit_spending(
        self, order: Order, instrument: Instrument, ts: int, session: date
    ) -> _Working | str:
        """An order spending a cash amount reserves exactly that amount."""
        amount = order.quote_quantity
        assert amount is not None
        if not self.account.can_reserve_cash(amount):
            return rules.cash_shortfall(amount, self.account.available_cash, self.account.currency)
        working = _Working(order, instrument, ts, session, amount / order.quantity)
        self.account.reserve_cash(amount)
        working.reserved_cash = amount
        return working

    def _buy_reserve(self, working: _Working, quantity: Decimal, session: date) -> Decimal:
        """Cash that covers buying ``quantity`` at the reservation price, fees included."""
        if quantity <= 0:
            return ZERO
        rate = self._max_commission_rate(working.instrument, session)
        step = Decimal(1).scaleb(-working.instrument.currency_precision)
        return (quantity * working.unit_price * (1 + rate)).quantize(step, ROUND_CEILING)

    def _commission(
        self,
        working: _Working,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        session: date,
    ) -> Decimal:
        commission, _ = self.fees.costs(
            working.instrument, Side.BUY, quantity, price, session, session, liquidity
        )
        return commission

    def _max_commission_rate(self, instrument: Instrument, session: date) -> Decimal:
        rule = self.fees.commission_rule(instrument)
        return max(
            rule.rate_on(session, LiquiditySide.MAKER), rule.rate_on(session, LiquiditySide.TAKER)
        )

    def _settlement(self, session: date) -> date:
        settled = self._settlements.get(session)
        if settled is None:
            settled = self.calendar.settlement_date(session, self.config.settlement_days)
            self._settlements[session] = settled
        return settled

    # -- closing orders --------------------------------------------------------------------

    def _expire(self, selects: _Selector, now: int) -> list[ExecutionReport]:
        reports: list[ExecutionReport] = []
        for working in list(self._working.values()):
            if working.order.time_in_force is TimeInForce.DAY and selects(working):
                reason = rules.expiry_reason(working.session)
                reports.append(self._close(working, OrderStatus.EXPIRED, now, reason))
        return reports

    def _close(
        self, working: _Working, status: OrderStatus, now: int, reason: str
    ) -> ExecutionReport:
        self.account.release_cash(working.reserved_cash)
        self.account.release_quantity(working.order.instrument_id, working.reserved_qty)
        working.reserved_cash = ZERO
        working.reserved_qty = ZERO
        working.order.transition(status, now, reason)
        self._unbook(working)
        return self._report(working.order, now, reason=reason)

    def _unbook(self, working: _Working) -> None:
        self._working.pop(working.order.client_order_id, None)
        book = self._book.get(working.order.instrument_id)
        if book is not None:
            book.remove(working)

    def _report(
        self, order: Order, ts: int, reason: str | None = None, fill: Fill | None = None
    ) -> ExecutionReport:
        return ExecutionReport(
            client_order_id=order.client_order_id,
            status=order.status,
            ts=ts,
            venue_order_id=order.venue_order_id,
            reason=reason if reason is not None else order.reason,
            fill=fill,
        )


def _fill_price(order: Order, open_: Decimal, high: Decimal, low: Decimal) -> Decimal | None:
    """Where ``order`` trades against data with this open/high/low, or None if it does not."""
    if order.order_type is OrderType.MARKET:
        return open_
    limit = order.price
    assert limit is not None
    if order.side is Side.BUY:
        return min(limit, open_) if low <= limit else None
    return max(limit, open_) if high >= limit else None
