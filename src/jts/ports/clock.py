"""Where services, strategies and the backtester read the time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def timestamp_ns(self) -> int:
        """Now, in UTC nanoseconds."""
        ...

    def utc_now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        ...
