"""A trading halt: an account in its safe state after something the platform did not do.

While halted, no new order is placed for the account (cancels still are); only an
explicit, recorded resume ends it. Restarts do not: the halt is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

# Findings kept per halt: the first ones explain it, the count says how many followed.
MAX_REASONS = 20


@dataclass(frozen=True, slots=True)
class TradingHalt:
    account: str
    since_ts: int
    reasons: tuple[str, ...]
    findings: int = 1

    def with_finding(self, reason: str) -> TradingHalt:
        reasons = self.reasons if len(self.reasons) >= MAX_REASONS else (*self.reasons, reason)
        return TradingHalt(self.account, self.since_ts, reasons, self.findings + 1)

    @property
    def summary(self) -> str:
        more = f" (+{self.findings - 1} more)" if self.findings > 1 else ""
        return f"{self.reasons[0]}{more}" if self.reasons else "halted"
