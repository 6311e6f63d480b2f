"""Where market data that fails validation goes: logged and kept for inspection, never stored."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

log = logging.getLogger("jts.market_data")


@dataclass(frozen=True, slots=True)
class QuarantinedItem:
    source: str
    reason: str
    item: str


class Quarantine:
    """A bounded record of rejected market data, so a bad feed cannot exhaust memory."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.items: deque[QuarantinedItem] = deque(maxlen=capacity)
        self.total = 0

    def add(self, source: str, reason: str, item: object) -> None:
        self.total += 1
        self.items.append(QuarantinedItem(source, reason, repr(item)))
        log.warning("quarantined market data from %s: %s (%r)", source, reason, item)
