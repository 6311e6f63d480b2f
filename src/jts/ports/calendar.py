"""When a venue trades: sessions, holidays and settlement days."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class TradingCalendar(Protocol):
    # The IANA zone its sessions are kept in (``Asia/Seoul`` for KRX), for messages.
    timezone: str

    def is_open(self, ts: int) -> bool:
        """Whether continuous trading is on at UTC nanoseconds ``ts``."""
        ...

    def session_of(self, ts: int) -> date | None:
        """The trading session (local date) ``ts`` falls in, or None outside sessions."""
        ...

    def sessions(self, start: date, end: date) -> list[date]:
        """Trading sessions from ``start`` to ``end`` inclusive."""
        ...

    def session_bounds(self, session: date) -> tuple[int, int]:
        """Open and close of ``session`` in UTC nanoseconds (close exclusive)."""
        ...

    def settlement_date(self, session: date, days: int) -> date:
        """The session ``days`` trading sessions after ``session`` (T+2 settlement)."""
        ...
