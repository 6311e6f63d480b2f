"""Trading signals: what a strategy wants, before sizing and risk turn it into an order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from jts.domain.enums import Side
from jts.domain.ids import namespace_bytes
from jts.domain.ids import uuid5_text


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


_SIGNAL_NAMESPACE = namespace_bytes("6f1d8a52-3c4b-5e7f-9a0b-1c2d3e4f5a6b")


def signal_id_for(strategy_id: str, instrument_id: str, side: Side, ts: int) -> str:
    """The same decision on the same bar always gets the same id.

    A bar delivered twice (a consumer restart, a broker failover) then yields a
    signal the order desk recognises, so it can never become a second order.
    """
    return uuid5_text(_SIGNAL_NAMESPACE, f"{strategy_id}|{instrument_id}|{side}|{ts}")
