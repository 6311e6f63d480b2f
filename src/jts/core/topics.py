"""Topic names of ARCHITECTURE.md; the in-process bus and Kafka use the same strings."""

from __future__ import annotations

from typing import Final

MARKET_TICKS: Final = "market.ticks"
MARKET_BARS: Final = "market.bars"
SIGNALS: Final = "signals"
ORDERS_PENDING: Final = "orders.pending"
ORDERS_EVENTS: Final = "orders.events"
FILLS: Final = "fills"
RISK_ALERTS: Final = "risk.alerts"
PORTFOLIO_SNAPSHOTS: Final = "portfolio.snapshots"
# Watermarks between services: "order execution / portfolio settled minute m" (lockstep).
MARKS: Final = "control.marks"

ALL_TOPICS: Final = (
    MARKET_TICKS,
    MARKET_BARS,
    SIGNALS,
    ORDERS_PENDING,
    ORDERS_EVENTS,
    FILLS,
    RISK_ALERTS,
    PORTFOLIO_SNAPSHOTS,
    MARKS,
)
