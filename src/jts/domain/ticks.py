"""Price ladders (tick grids) and the check a limit price passes before any venue sees it.

One implementation serves the matching engine, the paper venue, the Creon bridge
and every broker adapter: a price off the ladder is refused with the nearest
valid prices either side, never rounded on the caller's behalf.

KRX stock ladders (호가가격단위) are dated. From 2023-01-25 KOSPI, KOSDAQ and KONEX
share one ladder; before that KOSPI and KOSDAQ/KONEX differed above 50,000 won
and every board was coarser in three bands (1,000-2,000, 10,000-20,000,
100,000-200,000). The older ladders are the 2010 revision's (KRX and news
reports of the 2023 change); dates before 2010 are not modelled separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal

from jts.domain.enums import Market
from jts.domain.errors import InvalidOrder

# The first session of the unified KRX ladder.
KRX_UNIFIED_FROM = date(2023, 1, 25)


def _bands(*pairs: tuple[int, int]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(upper), Decimal(tick)) for upper, tick in pairs)


@dataclass(frozen=True, slots=True)
class TickRule:
    """The price grid: a banded table (KRX stocks) or one fixed increment.

    ``bands`` are (upper bound exclusive, tick) in ascending order; ``top`` is the
    tick at and above the last bound.
    """

    fixed: Decimal | None = None
    bands: tuple[tuple[Decimal, Decimal], ...] = ()
    top: Decimal | None = None

    @classmethod
    def krx_stock(cls) -> TickRule:
        """Today's KRX stock ladder (every board, since 2023-01-25)."""
        return KRX_UNIFIED

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

    def band_at(self, price: Decimal) -> tuple[Decimal, Decimal | None]:
        """The band ``price`` falls in: (lower bound inclusive, upper bound exclusive or None)."""
        if self.fixed is not None:
            return Decimal(0), None
        lower = Decimal(0)
        for upper, _ in self.bands:
            if price < upper:
                return lower, upper
            lower = upper
        return lower, None

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

    def nearest_valid(self, price: Decimal) -> tuple[Decimal | None, Decimal]:
        """The valid prices at or below and at or above ``price`` (None: nothing below)."""
        down = self.round_down(price) if price > 0 else Decimal(0)
        up = self.round_up(price) if price > 0 else self.tick_at(Decimal(0))
        return (down if down > 0 else None), up

    def problem(self, price: Decimal, currency: str = "") -> str | None:
        """Why ``price`` is not a valid limit price on this ladder, or None when it is."""
        if self.is_on_grid(price):
            return None
        unit = f" {currency}" if currency else ""
        down, up = self.nearest_valid(price)
        below = f"{fmt(down)} below, " if down is not None and down < price else ""
        tick = self.tick_at(price)
        lower, upper = self.band_at(price)
        if self.fixed is not None:
            where = f"ticks of {fmt(tick)}{unit}"
        elif upper is None:
            where = f"ticks of {fmt(tick)}{unit} from {fmt(lower)}"
        else:
            where = f"ticks of {fmt(tick)}{unit} from {fmt(lower)} below {fmt(upper)}"
        whole = ""
        if price > 0 and tick == tick.to_integral_value() and price != price.to_integral_value():
            whole = f", and not a whole number of{unit or ' units'}"
        positive = " (prices must be positive)" if price <= 0 else ""
        return (
            f"price {fmt(price)}{unit} is not on the tick ladder ({where}){whole}{positive}: "
            f"nearest valid {below}{fmt(up)} above"
        )

    def check(self, price: Decimal, currency: str = "") -> None:
        """Raise InvalidOrder naming the nearest valid prices when ``price`` is off the ladder."""
        problem = self.problem(price, currency)
        if problem is not None:
            raise InvalidOrder(problem)


def fmt(value: Decimal) -> str:
    """70050 -> '70,050'; keeps decimals of crypto prices and never uses exponents."""
    return f"{value:,f}"


# KRX stock ladders: (upper bound, tick) and the tick from the last bound up.
KRX_UNIFIED = TickRule(
    bands=_bands(
        (2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)
    ),
    top=Decimal(1_000),
)
KOSPI_2010 = TickRule(
    bands=_bands(
        (1_000, 1), (5_000, 5), (10_000, 10), (50_000, 50), (100_000, 100), (500_000, 500)
    ),
    top=Decimal(1_000),
)
KOSDAQ_2010 = TickRule(
    bands=_bands((1_000, 1), (5_000, 5), (10_000, 10), (50_000, 50)),
    top=Decimal(100),
)


def krx_stock_ladder(market: Market, day: date) -> TickRule:
    """The KRX stock ladder in force for ``market``'s stocks on ``day``."""
    if day >= KRX_UNIFIED_FROM:
        return KRX_UNIFIED
    return KOSPI_2010 if market is Market.KOSPI else KOSDAQ_2010


def krx_stock_history(market: Market) -> tuple[tuple[date, TickRule], ...]:
    """Ladders before today's, each with the first day it no longer applied."""
    return ((KRX_UNIFIED_FROM, krx_stock_ladder(market, date(2023, 1, 24))),)
