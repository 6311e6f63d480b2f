"""Instruments, their ids and the price and quantity grids a venue enforces."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal

from jts.domain.enums import AssetClass
from jts.domain.enums import Market
from jts.domain.errors import InvalidOrder

KRX = "KRX"

# KRX unified tick table (KOSPI, KOSDAQ and KONEX since 2023-01-25): (upper bound, tick).
_KRX_STOCK_TICKS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(2_000), Decimal(1)),
    (Decimal(5_000), Decimal(5)),
    (Decimal(20_000), Decimal(10)),
    (Decimal(50_000), Decimal(50)),
    (Decimal(200_000), Decimal(100)),
    (Decimal(500_000), Decimal(500)),
)
_KRX_STOCK_TOP_TICK = Decimal(1_000)


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
class TickRule:
    """The price grid: a banded table (KRX stocks) or one fixed increment."""

    fixed: Decimal | None = None
    bands: tuple[tuple[Decimal, Decimal], ...] = ()
    top: Decimal | None = None

    @classmethod
    def krx_stock(cls) -> TickRule:
        return cls(bands=_KRX_STOCK_TICKS, top=_KRX_STOCK_TOP_TICK)

    @classmethod
    def flat(cls, tick: Decimal | str) -> TickRule:
        return cls(fixed=Decimal(tick))

    def tick_at(self, price: Decimal) -> Decimal:
        """The tick size that applies to ``price``."""
        if self.fixed is not None:
            return self.fixed
        for upper, tick in self.bands:
            if price < upper:
                return tick
        assert self.top is not None
        return self.top

    def is_on_grid(self, price: Decimal) -> bool:
        return price > 0 and price % self.tick_at(price) == 0

    def round_down(self, price: Decimal) -> Decimal:
        tick = self.tick_at(price)
        return (price / tick).to_integral_value(ROUND_FLOOR) * tick

    def round_up(self, price: Decimal) -> Decimal:
        tick = self.tick_at(price)
        rounded = (price / tick).to_integral_value(ROUND_CEILING) * tick
        # Crossing a band edge upward can land on a coarser grid: re-snap once.
        return rounded if self.is_on_grid(rounded) else self.round_up(rounded)

    def round_nearest(self, price: Decimal) -> Decimal:
        down, up = self.round_down(price), self.round_up(price)
        return down if price - down <= up - price else up

    def shift(self, price: Decimal, ticks: int) -> Decimal:
        """Move ``price`` (on the grid) by ``ticks`` steps, crossing bands correctly."""
        result = price
        for _ in range(abs(ticks)):
            if ticks > 0:
                result = result + self.tick_at(result)
            else:
                below = result - self.tick_at(result - Decimal("0.00000001"))
                result = self.round_down(below)
        return result


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
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return str(self.id)

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

    def price_limits(self, reference: Decimal) -> tuple[Decimal, Decimal] | None:
        """Lower and upper price limits around ``reference`` (previous close), on the grid."""
        if self.daily_limit is None:
            return None
        upper = self.tick_rule.round_down(reference * (1 + self.daily_limit))
        lower = self.tick_rule.round_up(reference * (1 - self.daily_limit))
        return lower, upper


def krx_stock(code: str, name: str, market: Market = Market.KOSPI) -> Instrument:
    """A KRX-listed common stock with the unified tick table and the ±30% daily limit."""
    limit = Decimal("0.15") if market is Market.KONEX else Decimal("0.30")
    return Instrument(
        id=InstrumentId(KRX, code),
        name=name,
        asset_class=AssetClass.EQUITY,
        market=market,
        currency="KRW",
        tick_rule=TickRule.krx_stock(),
        daily_limit=limit,
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
