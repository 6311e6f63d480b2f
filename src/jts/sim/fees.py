"""Dated trading costs: brokerage commission and the KRX securities transaction tax.

Rates change by law and by broker contract, so every rate is a step function of
a date rather than a constant: a backtest of 2024 must charge 2024's tax. The
KRX sell tax is keyed by the SETTLEMENT (transfer) date, not the trade date:
a trade on the last two sessions of 2025 settles in 2026 and pays 2026's rate.
Commission is keyed by the trade date. Amounts are rounded DOWN to the
currency's precision (whole won for KRW), as brokers truncate.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR
from decimal import Decimal

from jts.domain.enums import AssetClass
from jts.domain.enums import LiquiditySide
from jts.domain.enums import Market
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import Instrument

ZERO = Decimal(0)
ALWAYS = date(1900, 1, 1)

# Default commission for simulated KRX trading, charged on buys and sells (0.015%).
KRX_PAPER_COMMISSION = Decimal("0.00015")

# Securities transaction tax incl. the rural special tax, by transfer date (broker-apis.md §6.4).
_KRX_TAX: dict[Market, tuple[tuple[date, Decimal], ...]] = {
    Market.KOSPI: (
        (date(2023, 1, 1), Decimal("0.0020")),
        (date(2024, 1, 1), Decimal("0.0018")),
        (date(2025, 1, 1), Decimal("0.0015")),
        (date(2026, 1, 1), Decimal("0.0020")),
    ),
    Market.KOSDAQ: (
        (date(2023, 1, 1), Decimal("0.0020")),
        (date(2024, 1, 1), Decimal("0.0018")),
        (date(2025, 1, 1), Decimal("0.0015")),
        (date(2026, 1, 1), Decimal("0.0020")),
    ),
    Market.KONEX: ((date(2023, 1, 1), Decimal("0.0010")),),
}


def krx_tax_schedule_start() -> date:
    """The first day every KRX board has a sell-tax rate: a simulation may not start earlier."""
    return max(steps[0][0] for steps in _KRX_TAX.values())


class RateSchedule:
    """A rate that changes on given dates; each rate holds until the next one starts."""

    __slots__ = ("_rates", "_starts")

    def __init__(self, steps: Iterable[tuple[date, Decimal]]) -> None:
        ordered = sorted(steps)
        if not ordered:
            raise ConfigurationError("a rate schedule needs at least one (effective_from, rate)")
        starts = [start for start, _ in ordered]
        if len(set(starts)) != len(starts):
            raise ConfigurationError(f"rate schedule has duplicate effective dates: {starts}")
        if any(rate < 0 for _, rate in ordered):
            raise ConfigurationError("rates must not be negative")
        self._starts = starts
        self._rates = [rate for _, rate in ordered]

    @classmethod
    def constant(cls, rate: Decimal | str) -> RateSchedule:
        return cls([(ALWAYS, Decimal(rate))])

    @property
    def steps(self) -> list[tuple[date, Decimal]]:
        return list(zip(self._starts, self._rates, strict=True))

    def rate_on(self, day: date) -> Decimal:
        index = bisect_right(self._starts, day) - 1
        if index < 0:
            raise ConfigurationError(
                f"no rate effective on {day.isoformat()} (schedule starts {self._starts[0]})"
            )
        return self._rates[index]


@dataclass(frozen=True, slots=True)
class CommissionRule:
    """Commission rates of one venue (and optionally one asset class) for makers and takers."""

    maker: RateSchedule
    taker: RateSchedule

    @classmethod
    def flat(cls, rate: Decimal | str) -> CommissionRule:
        schedule = RateSchedule.constant(rate)
        return cls(maker=schedule, taker=schedule)

    def rate_on(self, day: date, liquidity: LiquiditySide) -> Decimal:
        schedule = self.maker if liquidity is LiquiditySide.MAKER else self.taker
        return schedule.rate_on(day)


CommissionKey = tuple[str, AssetClass | None]


class FeeSchedule:
    """Commission per (venue, asset class) and transaction tax per listing board.

    ``everywhere`` is the commission of any venue not listed; ``truncate=False``
    charges the exact fraction of the notional (a research account, compared with
    float backtesters) instead of rounding down to the currency's precision.
    """

    def __init__(
        self,
        commissions: Mapping[CommissionKey, CommissionRule],
        sell_taxes: Mapping[Market, RateSchedule] | None = None,
        *,
        everywhere: CommissionRule | None = None,
        truncate: bool = True,
    ) -> None:
        self._commissions = {
            (venue.upper(), cls): rule for (venue, cls), rule in commissions.items()
        }
        self._sell_taxes = dict(sell_taxes or {})
        self._everywhere = everywhere
        self.truncate = truncate

    @classmethod
    def research(cls, commission: Decimal | str = ZERO) -> FeeSchedule:
        """One exact commission fraction on every venue, no taxes: the research account."""
        return cls({}, everywhere=CommissionRule.flat(commission), truncate=False)

    @classmethod
    def default(cls, krx_commission: Decimal = KRX_PAPER_COMMISSION) -> FeeSchedule:
        """KRX paper commission, KRX taxes 2023-2026, Upbit KRW and Binance spot base tier."""
        return cls(
            commissions={
                ("KRX", None): CommissionRule.flat(krx_commission),
                ("UPBIT", AssetClass.CRYPTO): CommissionRule.flat("0.0005"),
                ("BINANCE", AssetClass.CRYPTO): CommissionRule.flat("0.001"),
            },
            sell_taxes={market: RateSchedule(steps) for market, steps in _KRX_TAX.items()},
        )

    def with_commission(
        self, venue: str, rule: CommissionRule, asset_class: AssetClass | None = None
    ) -> FeeSchedule:
        """A copy where ``venue`` (and ``asset_class``, if given) charges ``rule``."""
        commissions = dict(self._commissions)
        commissions[(venue.upper(), asset_class)] = rule
        return FeeSchedule(
            commissions, self._sell_taxes, everywhere=self._everywhere, truncate=self.truncate
        )

    def commission_rule(self, instrument: Instrument) -> CommissionRule:
        venue = instrument.id.venue.upper()
        rule = self._commissions.get((venue, instrument.asset_class))
        if rule is None:
            rule = self._commissions.get((venue, None))
        if rule is None:
            rule = self._everywhere
        if rule is None:
            raise ConfigurationError(f"no commission configured for venue {venue}")
        return rule

    def commission_rate(
        self, instrument: Instrument, trade_date: date, liquidity: LiquiditySide
    ) -> Decimal:
        return self.commission_rule(instrument).rate_on(trade_date, liquidity)

    def sell_tax_rate(self, instrument: Instrument, settlement_date: date) -> Decimal:
        schedule = self._sell_taxes.get(instrument.market)
        return ZERO if schedule is None else schedule.rate_on(settlement_date)

    def costs(
        self,
        instrument: Instrument,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        trade_date: date,
        settlement_date: date,
        liquidity: LiquiditySide = LiquiditySide.TAKER,
    ) -> tuple[Decimal, Decimal]:
        """(commission, tax) of one execution, each rounded down to the currency precision."""
        notional = quantity * price
        rate = self.commission_rate(instrument, trade_date, liquidity)
        commission = self._money(notional * rate, instrument)
        tax = ZERO
        if side is Side.SELL:
            tax_rate = self.sell_tax_rate(instrument, settlement_date)
            tax = self._money(notional * tax_rate, instrument)
        return commission, tax

    def _money(self, amount: Decimal, instrument: Instrument) -> Decimal:
        return round_down(amount, instrument.currency_precision) if self.truncate else amount


def round_down(amount: Decimal, places: int) -> Decimal:
    """Truncate a non-negative amount to ``places`` decimals (KRW: whole won)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
