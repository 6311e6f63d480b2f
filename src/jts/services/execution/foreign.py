"""Orders the platform did not place: reported, alerted, and the account halted.

An order (or a cancel, or a modify) that is not ours means someone else can trade the account,
by hand or with a stolen token, and our books no longer describe it. Absorbing
it would make sizing and P&L wrong from then on, so the finding is logged at
ERROR, published on ``risk.alerts``, and the account moves to its safe state: no
new order until an operator resumes it (``jts orders resume``). Cancels and the
handling of our own orders' reports go on, so nothing already working is orphaned.
"""

from __future__ import annotations

import logging

from jts.core import topics
from jts.domain.events import RiskAlert
from jts.domain.halts import TradingHalt
from jts.ports import Clock
from jts.ports import MessageBus
from jts.ports import TradingHaltStore

log = logging.getLogger("jts.execution.foreign")

FOREIGN_ORDER = "foreign_order"
FOREIGN_CANCEL = "foreign_cancel"
FOREIGN_MODIFY = "foreign_modify"
# Findings remembered per process so a foreign order seen by every report and every
# reconciliation round is alerted once; the halt itself is stored.
_MEMORY = 10_000


class MemoryHaltStore:
    """Halts held in memory: for tests and callers without a data folder (not durable)."""

    def __init__(self) -> None:
        self._halts: dict[str, TradingHalt] = {}

    async def current(self, account: str) -> TradingHalt | None:
        return self._halts.get(account)

    async def halt(self, account: str, reason: str, ts: int) -> TradingHalt:
        existing = self._halts.get(account)
        halt = (
            TradingHalt(account, ts, (reason,))
            if existing is None
            else existing.with_finding(reason)
        )
        self._halts[account] = halt
        return halt

    async def resume(self, account: str, *, by: str, reason: str, ts: int) -> TradingHalt | None:
        return self._halts.pop(account, None)


class AccountGuard:
    """The safe state of one account: halted by foreign findings, resumed only explicitly."""

    def __init__(
        self, account: str, halts: TradingHaltStore, bus: MessageBus, clock: Clock, source: str
    ) -> None:
        self.account = account
        self._halts = halts
        self._bus = bus
        self._clock = clock
        self._source = source
        self._reported: set[tuple[str, str]] = set()
        self._was_halted = False

    async def halted(self) -> TradingHalt | None:
        halt = await self._halts.current(self.account)
        if halt is None and self._was_halted:
            log.warning("trading on %s resumed (see the halt log for who and why)", self.account)
        self._was_halted = halt is not None
        return halt

    async def foreign(
        self,
        kind: str,
        detail: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        instrument_id: str | None = None,
    ) -> None:
        """Report a finding once, halt the account, publish the alert."""
        key = (kind, client_order_id or venue_order_id or detail)
        if key in self._reported:
            return
        if len(self._reported) >= _MEMORY:
            self._reported.clear()
        self._reported.add(key)
        ids = f"client order id {client_order_id}, venue order id {venue_order_id}"
        reason = f"{kind}: {detail} ({ids}, instrument {instrument_id})"
        log.error(
            "%s on %s: %s; new orders for the account are refused until "
            "`jts orders resume %s --reason ...`",
            kind,
            self.account,
            reason,
            self.account,
        )
        ts = self._clock.timestamp_ns()
        # The halt first: it is what keeps the account safe if the alert cannot be sent.
        await self._halts.halt(self.account, reason, ts)
        self._was_halted = True
        alert = RiskAlert.of(
            ts=ts,
            source=self._source,
            key=self.account,
            account=self.account,
            kind=kind,
            detail=detail,
            halted=True,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id,
            instrument_id=instrument_id,
        )
        try:
            await self._bus.publish(topics.RISK_ALERTS, alert)
        except Exception:
            log.exception("alert for %s on %s not published; the halt stands", kind, self.account)
