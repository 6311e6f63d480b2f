"""Trading signals: what a strategy wants, before sizing and risk turn it into an order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from jts.domain.enums import Side


@dataclass(frozen=True, slots=True)
class Signal:
    strategy_id: str
    instrument_id: str
    side: Side
    ts: int
    price: Decimal
    strength: Decimal = Decimal(1)
    reason: str = ""
    signal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
