"""Fills of venues that report totals, turned into increments exactly once.

KIS and Creon announce fills twice over: a real-time notice per execution (can
be missed while the socket is down) and an order inquiry with the order's
cumulative filled quantity and amount (always right, no detail). The ledger
keeps, per venue order, how much has been reported as fills; any source that
shows more yields one fill for the difference, with an id made of the order and
the new total, and nothing else ever reports that quantity again. It is written
to disk before the fill is handed on, so a restart does not report it twice.

A notice that arrives after an inquiry already counted its quantity must not be
counted again: each inquiry leaves a watermark (when it was asked), and a notice
whose execution time lies safely before the watermark is known to be in that
total (``counted_before``). What remains is a window of about two seconds
(notice times are whole seconds; clocks differ) in which a late notice can still
count a fill early; the totals converge at the next inquiry either way.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jts.brokers.common.json_lines import JsonLines
from jts.domain.enums import Side

_PRICE_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class LedgerFill:
    fill_id: str
    venue_order_id: str
    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    ts: int
    total_quantity: Decimal
    total_amount: Decimal

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("quantity", "price", "total_quantity", "total_amount"):
            data[key] = str(data[key])
        data["side"] = self.side.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerFill:
        return cls(
            fill_id=data["fill_id"],
            venue_order_id=data["venue_order_id"],
            client_order_id=data["client_order_id"],
            instrument_id=data["instrument_id"],
            side=Side(data["side"]),
            quantity=Decimal(data["quantity"]),
            price=Decimal(data["price"]),
            ts=int(data["ts"]),
            total_quantity=Decimal(data["total_quantity"]),
            total_amount=Decimal(data["total_amount"]),
        )


class FillLedger:
    def __init__(self, path: Path | None, *, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self._fills: list[LedgerFill] = []
        self._totals: dict[str, tuple[Decimal, Decimal]] = {}
        self._watermarks: dict[str, int] = {}
        self._file = JsonLines(path, "fill ledger")
        for number, record in self._file.records():
            try:
                self._remember(LedgerFill.from_json(record))
            except (ValueError, KeyError, TypeError) as exc:
                raise self._file.damaged(number, exc) from exc

    def _remember(self, fill: LedgerFill) -> None:
        self._fills.append(fill)
        self._totals[fill.venue_order_id] = (fill.total_quantity, fill.total_amount)

    def confirm(self, venue_order_id: str, as_of: int) -> None:
        """An inquiry asked at ``as_of`` showed this order's total (now in the ledger)."""
        self._watermarks[venue_order_id] = max(self._watermarks.get(venue_order_id, 0), as_of)

    def counted_before(self, venue_order_id: str, fill_ts: int, margin_ns: int) -> bool:
        """True when an inquiry asked ``margin_ns`` after ``fill_ts`` already counted it."""
        return fill_ts + margin_ns <= self._watermarks.get(venue_order_id, 0)

    def totals(self, venue_order_id: str) -> tuple[Decimal, Decimal]:
        return self._totals.get(venue_order_id, (Decimal(0), Decimal(0)))

    def advance(
        self,
        *,
        venue_order_id: str,
        client_order_id: str,
        instrument_id: str,
        side: Side,
        order_quantity: Decimal,
        total_quantity: Decimal,
        total_amount: Decimal,
        ts: int,
    ) -> LedgerFill | None:
        """The fill that brings the order to ``total_quantity``, or None if already there."""
        known_qty, known_amount = self.totals(venue_order_id)
        total_quantity = min(total_quantity, order_quantity)
        if total_quantity <= known_qty:
            return None
        quantity = total_quantity - known_qty
        amount = max(total_amount - known_amount, Decimal(0))
        price = (amount / quantity).quantize(_PRICE_PLACES).normalize()
        fill = LedgerFill(
            fill_id=f"{self.prefix}{venue_order_id}:{total_quantity.normalize()}",
            venue_order_id=venue_order_id,
            client_order_id=client_order_id,
            instrument_id=instrument_id,
            side=side,
            quantity=quantity,
            price=price,
            ts=ts,
            total_quantity=total_quantity,
            total_amount=known_amount + amount,
        )
        self._file.append(fill.to_json())
        self._remember(fill)
        return fill

    def since(self, ts: int) -> list[LedgerFill]:
        return [f for f in self._fills if f.ts >= ts]
