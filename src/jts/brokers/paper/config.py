"""Settings of the simulated (paper) venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field


class PaperConfig(BaseModel):
    """How the paper venue behaves; every field has a sensible KRX default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Broker name: the ``venue`` of the paper clients and the ``broker`` field of its orders.
    name: str = "paper"
    account: str = "paper"
    # Exchange whose calendar, fees and rules are simulated (KRX, UPBIT or BINANCE).
    market_venue: str = "KRX"
    currency: str = "KRW"
    starting_cash: Decimal = Field(default=Decimal(100_000_000), ge=0)
    participation_rate: Decimal = Field(default=Decimal("0.10"), gt=0, le=1)
    # jts.sim.slippage: none, ticks:N, bps:X or volume:F (which sets the participation rate).
    slippage: str = "none"
    # Commission rate charged per side instead of the FeeSchedule's default for market_venue.
    commission_rate: Decimal | None = Field(default=None, ge=0)
    market_order_buffer: Decimal = Field(default=Decimal("0.05"), ge=0)
    settlement_days: int = Field(default=2, ge=0)
    allow_short: bool = False
    allow_negative_cash: bool = False
    # "research": none of the venue's rules (no lots, ticks, limits, trading hours or
    # volume cap), quantities in 1e-8 units, commission an exact fraction of the notional
    # (``commission_rate``, default 0) and no tax: the account for cross-checks.
    rules: Literal["venue", "research"] = "venue"
    # Prefix of venue order ids and fill ids; set a per-run value if fills are persisted
    # across restarts, so a new run cannot reuse an old fill id.
    id_prefix: str = "PAPER"
    # Bars kept per instrument for historical_bars when no BarStore backs the data client.
    history_limit: int = Field(default=240, ge=0)
    # Sessions before the current one whose closed orders and fills the venue still
    # answers for; None: every one (a backtest bounds it to keep memory flat).
    order_history_sessions: int | None = Field(default=None, ge=0)
