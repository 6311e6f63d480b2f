"""``ExecutionClient`` for one KIS account.

KIS takes no client order id, so every order is journalled (``IntentJournal``)
before it is sent and bound to KIS's order number (ODNO) when the answer comes.
A lost answer leaves the intent unbound and the order UNKNOWN upstream;
``query_order`` then finds it in today's orders by instrument, side, quantity,
price and time (``reconciliation.py``), and a resubmission of the same client
order id is refused rather than sent. Fills come from the real-time notice
stream when it is up and from the order inquiry otherwise, through one
``FillLedger`` so each quantity is reported once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from jts.brokers.common.costs import krx_fill_costs
from jts.brokers.common.fill_ledger import FillLedger
from jts.brokers.common.fill_ledger import LedgerFill
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.prices import check_krx_price
from jts.brokers.common.prices import whole
from jts.brokers.common.requests import IncompleteRequest
from jts.brokers.kis.environments import Paths
from jts.brokers.kis.http import KisResponse
from jts.brokers.kis.http import KisRest
from jts.brokers.kis.parsing import code_of
from jts.brokers.kis.parsing import dec
from jts.brokers.kis.parsing import instrument_of
from jts.brokers.kis.parsing import kst_day
from jts.brokers.kis.parsing import order_row
from jts.brokers.kis.reconciliation import DONE as _DONE
from jts.brokers.kis.reconciliation import combined
from jts.brokers.kis.reconciliation import follow_modifies
from jts.brokers.kis.reconciliation import resolve_unbound
from jts.brokers.kis.reconciliation import working_orders
from jts.brokers.kis.websocket import FillNotice
from jts.brokers.kis.websocket import KisRealtime
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import BrokerError
from jts.domain.errors import ConfigurationError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import UnknownOrder
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import NANOS_PER_SECOND
from jts.ports.brokers import ReportHandler
from jts.sim.fees import FeeSchedule

log = logging.getLogger("jts.brokers.kis")

LIMIT, MARKET = "00", "01"
# ORD_DVSN 11 IOC지정가 and 13 IOC시장가: "즉시체결, 잔량취소" (KIS's order samples,
# legacy/postman in koreainvestment/open-trading-api). KIS keeps no order past the day.
IOC_LIMIT, IOC_MARKET = "11", "13"
_ORDER_CODES = {
    (TimeInForce.DAY, OrderType.LIMIT): LIMIT,
    (TimeInForce.DAY, OrderType.MARKET): MARKET,
    (TimeInForce.IOC, OrderType.LIMIT): IOC_LIMIT,
    (TimeInForce.IOC, OrderType.MARKET): IOC_MARKET,
}
MODIFY, CANCEL = "01", "02"
# Notice times are whole KST seconds and clocks differ: an inquiry asked this long after
# a notice's execution time certainly counted it.
NOTICE_MARGIN_NS = 2 * NANOS_PER_SECOND
# An order inquiry is reused for this long unless a report or an order changed things.
TODAY_REUSE_NS = NANOS_PER_SECOND


class KisExecution:
    def __init__(
        self,
        rest: KisRest,
        *,
        state_dir: Path | None,
        realtime: KisRealtime | None = None,
        fees: FeeSchedule | None = None,
        poll_interval: float = 5.0,
        account_ttl: float = 5.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = "kis"
        self.rest = rest
        name = rest.account.name
        self.journal = IntentJournal(state_dir / f"kis-{name}-intents.jsonl" if state_dir else None)
        self.ledger = FillLedger(
            state_dir / f"kis-{name}-fills.jsonl" if state_dir else None, prefix=f"kis:{name}:"
        )
        self._realtime = realtime
        self._fees = fees or FeeSchedule.default()
        self._poll_interval = poll_interval
        self._clock = clock
        self._handler: ReportHandler | None = None
        self._branch: dict[str, str] = {}  # ODNO -> KRX_FWDG_ORD_ORGNO, needed to cancel
        self._orders: dict[str, OrderIntent] = {}  # open orders being watched, by ODNO
        self._poller: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._asked_at = 0  # when the latest order inquiry was asked
        self._account_ttl = account_ttl
        self._account_cache: tuple[AccountState, float] | None = None
        self._today_cache: dict[bool, tuple[int, int, list[dict[str, Any]]]] = {}
        self._generation = 0
        self.sent = 0

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    async def connect(self) -> None:
        await self.rest.connect()
        if self._realtime is not None:
            self._realtime.on_notice(self._on_notice)
            notices = self.rest.endpoints.tr.fill_notices
            if self.rest.account.hts_id:
                self._realtime.subscribe(notices, self.rest.account.hts_id)
            await self._realtime.start()
        await self._watch_open_orders()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll_loop(), name=f"{self.rest.name}-poll")

    async def _watch_open_orders(self) -> None:
        """After a restart, our orders still open at KIS are watched for fills again."""
        try:
            open_orders = await self.open_orders()
        except BrokerError as exc:
            log.warning("%s: open orders not known at start: %s", self.rest.name, exc)
            return
        for report in open_orders:
            intent = self.journal.get(report.client_order_id or "")
            if intent is not None and intent.venue_order_id == report.venue_order_id:
                self._orders[report.venue_order_id] = intent

    async def disconnect(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._realtime is not None:
            await self._realtime.stop()
        await self.rest.close()

    # -- orders ----------------------------------------------------------------------

    async def submit_order(self, order: Order) -> None:
        known = self.journal.get(order.client_order_id)
        if known is not None:
            if known.venue_order_id:
                log.info(
                    "%s already at KIS as %s; not sent again",
                    order.client_order_id,
                    known.venue_order_id,
                )
                return
            raise OutcomeUnknown(
                f"{order.client_order_id} was sent before without an answer; "
                "reconciliation resolves it, it is never sent twice"
            )
        try:
            body = self._order_body(order)
        except InvalidOrder as exc:
            # Refused here, so never at KIS: REJECTED, as KIS would have answered.
            await self._report(
                ExecutionReport(
                    order.client_order_id,
                    OrderStatus.REJECTED,
                    self._clock(),
                    reason=f"not sent to KIS: {exc}",
                )
            )
            return
        intent = OrderIntent(
            order.client_order_id,
            order.instrument_id,
            order.side,
            order.quantity,
            order.price if order.order_type is OrderType.LIMIT else None,
            self._clock(),
        )
        tr = self.rest.endpoints.tr
        self.journal.record(intent)
        self._changed()
        self.sent += 1
        try:
            response = await self.rest.post(
                Paths.ORDER_CASH,
                tr.buy if order.side is Side.BUY else tr.sell,
                body,
                idempotent=False,
            )
        except OrderRejectedByVenue as exc:
            await self._report(
                ExecutionReport(
                    order.client_order_id,
                    OrderStatus.REJECTED,
                    self._clock(),
                    reason=f"KIS: {exc}",
                )
            )
            return
        output = response.body.get("output") or {}
        odno = str(output.get("ODNO", "")).strip()
        if not odno:
            raise OutcomeUnknown(f"KIS order answer without ODNO: {response.body}")
        self._remember_branch(odno, output)
        bound = self.journal.bind(order.client_order_id, odno)
        self._orders[odno] = bound
        await self._report(
            ExecutionReport(
                order.client_order_id, OrderStatus.ACCEPTED, self._clock(), venue_order_id=odno
            )
        )

    def _order_body(self, order: Order) -> dict[str, str]:
        if order.quote_quantity is not None:
            raise InvalidOrder(
                "KIS takes a number of shares, not a cash amount to spend (quote quantity)"
            )
        if order.order_type not in (OrderType.LIMIT, OrderType.MARKET):
            raise InvalidOrder(f"KIS cash orders are limit or market, not {order.order_type}")
        code = _ORDER_CODES.get((order.time_in_force, order.order_type))
        if code is None:
            raise InvalidOrder(
                f"KIS cannot keep an order past the day: time in force {order.time_in_force}"
            )
        if order.quantity != order.quantity.to_integral_value() or order.quantity <= 0:
            raise InvalidOrder(f"KIS needs a whole number of shares, got {order.quantity}")
        price = Decimal(0)
        if order.order_type is OrderType.LIMIT:
            if order.price is None or order.price <= 0:
                raise InvalidOrder("a limit order needs a positive price")
            price = order.price
            check_krx_price(order.instrument_id, price, self._clock())
        account = self.rest.account
        return {
            "CANO": account.cano,
            "ACNT_PRDT_CD": account.product_code,
            "PDNO": code_of(order.instrument_id),
            "ORD_DVSN": code,
            "ORD_QTY": whole(order.quantity, "quantity"),
            "ORD_UNPR": whole(price, "price"),
            "EXCG_ID_DVSN_CD": "KRX",
        }

    async def cancel_order(self, order: Order) -> None:
        # Cancelling twice cannot hurt: the second is refused, so a retry is safe.
        await self._revise(order, CANCEL, Decimal(0), idempotent=True)
        # KIS took the cancel: open orders and reserved cash are asked again now, not
        # served from an inquiry made before it (the notice may never come).
        self._changed()
        await self._sync_orders()

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        """Lower the order's total to ``quantity`` and/or move what is left of it to ``price``.

        A lower quantity is a partial cancel of the difference (RVSE_CNCL_DVSN_CD 02,
        QTY_ALL_ORD_YN N): the order keeps its number. A new price is a modify of the
        whole remaining quantity (01, QTY_ALL_ORD_YN Y): KIS gives the remainder a new
        number, which the journal binds to the client order id, so later fills, cancels
        and queries follow it. The cut comes first, so KIS never splits the order in
        two. The answer is a report with the order's new terms.
        """
        order.check_amendment(price, quantity)
        if price is not None:
            check_krx_price(order.instrument_id, price, self._clock())  # before anything is sent
        intent = self.journal.get(order.client_order_id)
        if intent is None:
            raise UnknownOrder(f"{order.client_order_id}: never sent to KIS")
        total, limit = order.quantity, order.price
        if quantity is not None and quantity < order.quantity:
            odno, _, _ = await self._revise(
                order, CANCEL, Decimal(0), quantity=order.quantity - quantity, idempotent=False
            )
            total = quantity
            self.journal.bind(order.client_order_id, odno, quantity=total)
            self._changed()
            log.info("%s lowered to %s at KIS order %s", order.client_order_id, total, odno)
            if price is None or price == order.price:
                await self._modified(order, odno, limit, total)
                return
        assert price is not None
        try:
            odno, branch, response = await self._revise(order, MODIFY, price, idempotent=False)
        except BrokerError:
            if total != order.quantity:  # the cut stands at KIS: say so, then the refusal
                await self._modified(
                    order, self._venue_id(order.client_order_id) or "", limit, total
                )
            raise
        output = response.body.get("output") or {}
        new = str(output.get("ODNO", "")).strip()
        if not new:
            raise OutcomeUnknown(f"KIS modify answer without ODNO: {response.body}")
        if not self._remember_branch(new, output):
            self._branch[new] = branch  # a modified order keeps its routing branch
        self._changed()
        self._orders.pop(odno, None)
        self._orders[new] = self.journal.bind(
            order.client_order_id, new, price=price, quantity=total
        )
        log.info("%s modified to %s: KIS order %s -> %s", order.client_order_id, price, odno, new)
        await self._modified(order, new, price, total)

    async def _modified(
        self, order: Order, odno: str, price: Decimal | None, quantity: Decimal
    ) -> None:
        # A working order's status, which a modify does not change.
        filled = order.filled_quantity > 0
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
        await self._report(
            ExecutionReport(
                order.client_order_id,
                status,
                self._clock(),
                venue_order_id=odno,
                reason=MODIFIED_ON_REQUEST,
                price=price,
                quantity=quantity,
            )
        )

    async def _revise(
        self,
        order: Order,
        kind: str,
        price: Decimal,
        *,
        quantity: Decimal | None = None,
        idempotent: bool,
    ) -> tuple[str, str, KisResponse]:
        """order-rvsecncl: (ODNO, branch, answer).

        ``quantity`` None acts on the whole remaining quantity (QTY_ALL_ORD_YN Y);
        otherwise on that many shares of it (N, ORD_QTY).
        """
        # The journal knows the current number: a modify gives the order a new one.
        odno = self._venue_id(order.client_order_id) or order.venue_order_id
        if odno is None:
            raise UnknownOrder(f"{order.client_order_id}: KIS order number not known")
        branch = self._branch.get(odno) or await self._branch_of(odno)
        account = self.rest.account
        body = {
            "CANO": account.cano,
            "ACNT_PRDT_CD": account.product_code,
            "KRX_FWDG_ORD_ORGNO": branch,
            "ORGN_ODNO": odno,
            "ORD_DVSN": LIMIT,
            "RVSE_CNCL_DVSN_CD": kind,
            "ORD_QTY": "0" if quantity is None else whole(quantity, "quantity"),
            "ORD_UNPR": whole(price, "price"),
            "QTY_ALL_ORD_YN": "Y" if quantity is None else "N",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        response = await self.rest.post(
            Paths.MODIFY_CANCEL, self.rest.endpoints.tr.modify_cancel, body, idempotent=idempotent
        )
        return odno, branch, response

    def _venue_id(self, client_order_id: str) -> str | None:
        intent = self.journal.get(client_order_id)
        return intent.venue_order_id if intent else None

    def _remember_branch(self, odno: str, output: dict[str, Any]) -> bool:
        """Keep the order answer's branch number (KRX_FWDG_ORD_ORGNO), if it gave one."""
        branch = str(output.get("KRX_FWDG_ORD_ORGNO", "")).strip()
        if branch:
            self._branch[odno] = branch
        return bool(branch)

    async def _branch_of(self, odno: str) -> str:
        """The branch number of ``odno`` from today's orders (``ord_gno_brno``).

        A restarted client has none in memory. Never guessed and never sent empty:
        an order KIS does not list, or lists without a branch, is refused here.
        """
        rows = await self._today_rows(odno=odno)
        for row in rows:
            if str(row.get("odno", "")).strip() == odno:
                branch = str(row.get("ord_gno_brno", "")).strip()
                if not branch:
                    raise IncompleteRequest(
                        "KIS",
                        f"account {self.rest.account.name} modify/cancel of {odno}",
                        ["KRX_FWDG_ORD_ORGNO"],
                        "the order inquiry lists the order without its ord_gno_brno",
                    )
                self._branch[odno] = branch
                return branch
        raise UnknownOrder(f"KIS has no order {odno} today; its branch number is not known")

    # -- queries -----------------------------------------------------------------------

    async def _today_rows(
        self, *, odno: str = "", unfilled_only: bool = False
    ) -> list[dict[str, Any]]:
        today = kst_day(self._clock()).strftime("%Y%m%d")
        account = self.rest.account
        params = {
            "CANO": account.cano,
            "ACNT_PRDT_CD": account.product_code,
            "INQR_STRT_DT": today,
            "INQR_END_DT": today,
            "SLL_BUY_DVSN_CD": "00",
            "PDNO": "",
            "CCLD_DVSN": "02" if unfilled_only else "00",
            "INQR_DVSN": "01",
            "INQR_DVSN_1": "",
            "INQR_DVSN_3": "00",
            "ORD_GNO_BRNO": "",
            "ODNO": odno,
            "EXCG_ID_DVSN_CD": "KRX",
        }
        rows, _ = await self.rest.pages(
            Paths.DAILY_ORDERS, self.rest.endpoints.tr.daily_orders, params
        )
        # A cancel request is a row of its own (cncl_yn Y); the original carries the state.
        # A modify's row is the live order for the remaining quantity.
        return [
            r
            for r in rows
            if not (
                str(r.get("orgn_odno", "")).strip()
                and str(r.get("cncl_yn", "")).strip().upper() == "Y"
            )
        ]

    async def _today(self, *, unfilled_only: bool = False) -> list[OrderStatusReport]:
        """Today's orders; one inquiry serves every caller of the same second.

        Reconciliation asks once per open order (``query_order`` and ``fills``), which
        would otherwise page through the whole day each time within the 19 calls/s.
        """
        asked_at = self._clock()
        cached = self._today_cache.get(unfilled_only)
        if (
            cached is not None
            and cached[1] == self._generation
            and asked_at - cached[0] < TODAY_REUSE_NS
        ):
            rows = cached[2]
        else:
            generation = self._generation
            rows = await self._today_rows(unfilled_only=unfilled_only)
            for origin, bound in follow_modifies(self.journal, rows):
                if bound.venue_order_id is not None:
                    if self._orders.pop(origin, None) is not None:
                        self._orders[bound.venue_order_id] = bound
                    branch = self._branch.get(origin)
                    if branch:
                        self._branch.setdefault(bound.venue_order_id, branch)
            self._asked_at = asked_at
            self._today_cache[unfilled_only] = (asked_at, generation, rows)
        reports = []
        for row in rows:
            odno = str(row.get("odno", "")).strip()
            reports.append(order_row(row, self.journal.client_id_of(odno)))
        return reports

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None:
        intent = self.journal.get(client_order_id)
        if intent is None:
            return None  # never journalled, so never sent
        today = await self._today()
        # Another caller may have bound it while we asked.
        intent = self.journal.get(client_order_id) or intent
        if intent.venue_order_id:
            for report in today:
                if report.client_order_id == client_order_id:
                    await self._advance(report)
            return combined(self.journal, intent, today)
        resolved = resolve_unbound(self.journal, intent, today, self._clock())
        if resolved is None:
            return None
        self._orders[resolved.venue_order_id] = self.journal.get(client_order_id) or intent
        await self._advance(resolved)
        return resolved

    async def open_orders(self) -> list[OrderStatusReport]:
        return working_orders(self.journal, await self._today())

    async def fills(self, since_ns: int) -> list[Fill]:
        await self._sync_orders()
        return [self._fill(f) for f in self.ledger.since(since_ns)]

    async def account(self) -> AccountState:
        """Cash and holdings; reused until any report or order changes them, or ``account_ttl``.

        Two inquiries per call (balance, open orders) would otherwise be spent on every
        signal; on a paper account (2 calls/s) that is a second per signal.
        """
        cached = self._account_cache
        if cached is not None and time.monotonic() - cached[1] < self._account_ttl:
            return cached[0]
        generation = self._generation
        state = await self._inquire_account()
        if generation == self._generation:  # nothing changed while we asked
            self._account_cache = (state, time.monotonic())
        return state

    def _changed(self) -> None:
        self._generation += 1
        self._account_cache = None
        self._today_cache.clear()

    async def _inquire_account(self) -> AccountState:
        account = self.rest.account
        params = {
            "CANO": account.cano,
            "ACNT_PRDT_CD": account.product_code,
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
        }
        rows, body = await self.rest.pages(Paths.BALANCE, self.rest.endpoints.tr.balance, params)
        summary = body.get("output2") or [{}]
        totals = summary[0] if isinstance(summary, list) and summary else summary
        if not isinstance(totals, dict):
            raise BrokerError(f"KIS balance answer without output2: {body}")
        # D+2 deposit: today's trades included, what can actually be spent.
        cash = dec(totals.get("prvs_rcdl_excc_amt") or totals.get("dnca_tot_amt"), "cash")
        positions = {
            instrument_of(str(r.get("pdno", ""))): dec(r.get("hldg_qty"), "hldg_qty")
            for r in rows
            if dec(r.get("hldg_qty"), "hldg_qty") > 0
        }
        reserved = sum(
            (
                (r.quantity - r.filled_quantity) * (r.price or Decimal(0))
                for r in await self.open_orders()
                if r.side is Side.BUY
            ),
            Decimal(0),
        )
        return AccountState(self.rest.account.name, "KRW", cash, reserved, positions)

    # -- reports -----------------------------------------------------------------------

    async def _report(self, report: ExecutionReport) -> None:
        self._changed()
        if self._handler is None:
            raise ConfigurationError("kis: set a report handler before trading")
        await self._handler(report)

    def _fill(self, fill: LedgerFill) -> Fill:
        commission, tax = krx_fill_costs(
            self._fees, fill.instrument_id, fill.side, fill.quantity, fill.price, fill.ts
        )
        return Fill(
            fill_id=fill.fill_id,
            order_id=fill.venue_order_id,
            client_order_id=fill.client_order_id,
            instrument_id=fill.instrument_id,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            commission=commission,
            tax=tax,
            ts=fill.ts,
        )

    async def _advance(self, report: OrderStatusReport) -> None:
        """Report what an inquiry shows beyond what was reported already."""
        intent = self.journal.get(report.client_order_id or "") if report.client_order_id else None
        if intent is None:
            return  # not ours (placed by hand in the HTS): reconciliation will not adopt it
        async with self._lock:
            if report.filled_quantity > 0 and report.avg_fill_price is not None:
                await self._emit_fill(
                    intent,
                    report.venue_order_id,
                    report.filled_quantity,
                    report.filled_quantity * report.avg_fill_price,
                    self._clock(),
                )
            self.ledger.confirm(report.venue_order_id, self._asked_at)
            if intent.venue_order_id != report.venue_order_id:
                return  # an order number the order had before a modify: fills only
            if self._filled_in_total(intent):
                self._orders.pop(report.venue_order_id, None)  # its last fill said FILLED
                return
            if report.status in _DONE and report.status is not OrderStatus.FILLED:
                watched = self._orders.pop(report.venue_order_id, None)
                if watched is not None and report.status is OrderStatus.CANCELED:
                    await self._report(
                        ExecutionReport(
                            intent.client_order_id,
                            OrderStatus.CANCELED,
                            self._clock(),
                            venue_order_id=report.venue_order_id,
                        )
                    )

    async def _emit_fill(
        self, intent: OrderIntent, odno: str, total_qty: Decimal, total_amount: Decimal, ts: int
    ) -> None:
        fill = self.ledger.advance(
            venue_order_id=odno,
            client_order_id=intent.client_order_id,
            instrument_id=intent.instrument_id,
            side=intent.side,
            order_quantity=intent.quantity,
            total_quantity=total_qty,
            total_amount=total_amount,
            ts=ts,
        )
        if fill is None:
            return
        filled = self._filled_in_total(intent)
        status = OrderStatus.FILLED if filled else OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.FILLED:
            self._orders.pop(odno, None)
        await self._report(
            ExecutionReport(
                intent.client_order_id, status, fill.ts, venue_order_id=odno, fill=self._fill(fill)
            )
        )

    def _filled_in_total(self, intent: OrderIntent) -> bool:
        """Whether the fills under every number the order has had reach its total."""
        numbers = self.journal.venue_ids_of(intent.client_order_id)
        done = sum((self.ledger.totals(v)[0] for v in numbers), Decimal(0))
        return done >= intent.quantity

    async def _on_notice(self, notice: FillNotice) -> None:
        client_id = self.journal.client_id_of(notice.order_no)
        intent = self.journal.get(client_id) if client_id else None
        if intent is None:
            return
        if notice.rejected:
            self._orders.pop(notice.order_no, None)
            await self._report(
                ExecutionReport(
                    intent.client_order_id,
                    OrderStatus.REJECTED,
                    notice.ts,
                    venue_order_id=notice.order_no,
                    reason="KIS refused the order",
                )
            )
            return
        if not notice.is_fill:
            return
        async with self._lock:
            if self.ledger.counted_before(notice.order_no, notice.ts, NOTICE_MARGIN_NS):
                log.info("KIS notice for %s already counted by an inquiry", notice.order_no)
                return
            known_qty, known_amount = self.ledger.totals(notice.order_no)
            await self._emit_fill(
                intent,
                notice.order_no,
                known_qty + notice.quantity,
                known_amount + notice.quantity * notice.price,
                notice.ts,
            )

    async def _sync_orders(self) -> None:
        """Bring every watched order up to the inquiry's view (fills, cancels)."""
        if not self._orders and not self.journal.unbound():
            return
        for report in await self._today():
            if report.client_order_id is not None and (
                report.venue_order_id in self._orders or report.status not in _DONE
            ):
                await self._advance(report)

    async def _poll_loop(self) -> None:
        """Inquiry-based fills while orders are open: the notice socket can drop."""
        while True:
            await asyncio.sleep(self._poll_interval)
            if not self._orders:
                continue
            try:
                await self._sync_orders()
            except BrokerError as exc:
                log.warning("%s: order inquiry failed: %s", self.rest.name, exc)
            except Exception:
                log.exception("%s: order poll failed", self.rest.name)
