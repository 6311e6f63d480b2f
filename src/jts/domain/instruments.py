"""Instruments, their ids and the price and quantity grids a venue enforces."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import ROUND_FLOOR
from decimal import Decimal

from jts.domain.enums import AssetClass
from jts.domain.enums import Market
from jts.domain.errors import InvalidOrder
from jts.domain.ticks import TickRule
from jts.domain.ticks import krx_stock_history

# TickRule lives in jts.domain.ticks; it is re-exported for the modules that import it here.
__all__ = ["KRX", "Instrument", "InstrumentId", "TickRule", "crypto_pair", "krx_stock"]

KRX = "KRX"


@dataclass(frozen=True, slots=True, order=True)
class InstrumentId:
    """``VENUE:CODE``, for example ``KRX:005930`` or ``UPBIT:KRW-BTC``."""

    venue: str
    code: str

    @classmethod
    def parse(cls, value: str) -> InstrumentId:
        venue, sep, code = value.partition(":")
        if not sep or not venue or not code or ":" in code:
            raise ValueError(f"instrument id {value!r} is not of the form VENUE:CODE")
        return cls(venue.upper(), code)

    def __str__(self) -> str:
        return f"{self.venue}:{self.code}"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable thing and the rules its venue applies to orders in it."""

    id: InstrumentId
    name: str
    asset_class: AssetClass
    market: Market
    currency: str
    tick_rule: TickRule
    lot_size: Decimal = Decimal(1)
    min_quantity: Decimal = Decimal(1)
    # Daily price limit as a fraction of the previous close (KRX: 0.30); None = no limit.
    daily_limit: Decimal | None = None
    # Decimal places of the settlement currency, for rounding fees and cash.
    currency_precision: int = 0
    # Earlier ladders, each with the first day it no longer applied (oldest first).
    tick_history: tuple[tuple[date, TickRule], ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return str(self.id)

    def tick_rule_on(self, day: date | None) -> TickRule:
        """The ladder in force on ``day`` (None: today's)."""
        if day is not None:
            for until, rule in self.tick_history:
                if day < until:
                    return rule
        return self.tick_rule

    def check_price(self, price: Decimal, day: date | None) -> None:
        """Raise InvalidOrder when ``price`` is off the ladder of ``day``; nothing is rounded."""
        problem = self.tick_rule_on(day).problem(price, self.currency)
        if problem is not None:
            raise InvalidOrder(f"{self.id}: {problem}")

    def check_quantity(self, quantity: Decimal) -> None:
        if quantity <= 0:
            raise InvalidOrder(f"{self.id}: quantity must be positive, got {quantity}")
        if quantity < self.min_quantity:
            raise InvalidOrder(f"{self.id}: quantity {quantity} below minimum {self.min_quantity}")
        if quantity % self.lot_size != 0:
            raise InvalidOrder(
                f"{self.id}: quantity {quantity} is not a multiple of {self.lot_size}"
            )

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Largest multiple of the lot size not above ``quantity``."""
        lots = (quantity / self.lot_size).to_integral_value(ROUND_FLOOR)
        return lots * self.lot_size

    def price_limits(
        self, reference: Decimal, day: date | None = None
    ) -> tuple[Decimal, Decimal] | None:
        """Lower and upper price limits around ``reference`` (previous close), on ``day``'s grid."""
        if self.daily_limit is None:
            return None
        rule = self.tick_rule_on(day)
        upper = rule.round_down(reference * (1 + self.daily_limit))
        lower = rule.round_up(reference * (1 - self.daily_limit))
        return lower, upper


def krx_stock(code: str, name: str, market: Market = Market.KOSPI) -> Instrument:
    """A KRX-listed common stock: its board's dated tick ladder and the ±30% daily limit."""
    limit = Decimal("0.15") if market is Market.KONEX else Decimal("0.30")
    return Instrument(
        id=InstrumentId(KRX, code),
        name=name,
        asset_class=AssetClass.EQUITY,
        market=market,
        currency="KRW",
        tick_rule=TickRule.krx_stock(),
        daily_limit=limit,
        tick_history=krx_stock_history(market),
    )


def crypto_pair(
    venue: str,
    code: str,
    quote: str,
    tick: Decimal | str,
    lot: Decimal | str,
    precision: int,
) -> Instrument:
    """A spot crypto pair: flat tick and lot, no daily limit, trades around the clock."""
    return Instrument(
        id=InstrumentId(venue.upper(), code),
        name=code,
        asset_class=AssetClass.CRYPTO,
        market=Market.CRYPTO,
        currency=quote,
        tick_rule=TickRule.flat(tick),
        lot_size=Decimal(lot),
        min_quantity=Decimal(lot),
        currency_precision=precision,
    )
