"""``jts backtest run --account``: what a simulated account charges, allows and trades.

``krx`` is the venue as it is: KRX's commission and dated sell tax, lots, the tick
ladder, the daily limit, trading hours, KRW, and the configured order sizing.
``research`` is the account for cross-checks against plain backtesters (issue 11):
none of those rules, quantities in 1e-8 units, commission an exact fraction of the
notional (``--commission``, default 0), no tax, every BUY a market order spending all
the cash and every SELL selling everything, and bars of any timeframe (a daily CSV as
well as minute bars). Both run the same kernel over the same replay loop; only the
ports and settings handed in differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal

from jts.app.checks import bar_checks
from jts.app.service_config import kernel_config
from jts.app.settings import Settings
from jts.app.sources import instruments_for
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.paper.config import PaperConfig
from jts.core.bar_checks import BarChecks
from jts.domain.enums import OrderType
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.ports import TradingCalendar
from jts.services.kernel import KernelConfig
from jts.sim.research import RESEARCH_VENUE
from jts.sim.research import research_instrument
from jts.sim.slippage import SlippageSpec

RESEARCH_CURRENCY = "USD"
# backtesting.py's default cash: a research run is usually a cross-check against it.
RESEARCH_CASH = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class AccountModel:
    name: str
    research: bool

    @property
    def venue(self) -> str:
        """The venue of a bare symbol (``--symbols GOOG``, a file without a symbol column)."""
        return RESEARCH_VENUE if self.research else "KRX"

    def default_cash(self, settings: Settings) -> Decimal:
        return RESEARCH_CASH if self.research else settings.paper.starting_cash

    def calendar(self) -> TradingCalendar | None:
        """The venue's calendar; None for research (the paper venue is then always open)."""
        return None if self.research else calendar_for_venue("KRX")

    def paper(
        self,
        settings: Settings,
        cash: Decimal,
        slippage: SlippageSpec,
        commission: Decimal | None,
    ) -> PaperConfig:
        """The paper venue of this account; ``commission`` replaces its commission rate."""
        paper = settings.paper
        if self.research:
            return PaperConfig(
                account="research",
                market_venue=RESEARCH_VENUE,
                currency=RESEARCH_CURRENCY,
                starting_cash=cash,
                slippage=slippage.text,
                commission_rate=commission or Decimal(0),
                rules="research",
                id_prefix="RESEARCH",
                history_limit=0,
            )
        return PaperConfig(
            account="backtest",
            starting_cash=cash,
            currency=paper.currency,
            participation_rate=paper.participation_rate,
            slippage=slippage.text,
            commission_rate=paper.commission_rate if commission is None else commission,
            allow_short=paper.allow_short,
            id_prefix="BT",
            history_limit=0,
            # Nothing asks a backtest's venue about older orders: its history stays bounded.
            order_history_sessions=1,
        )

    def instruments(self, ids: Sequence[str]) -> list[Instrument]:
        """Research instruments trade in fractions at any price, whatever their venue."""
        if not self.research:
            return instruments_for(list(ids))
        found = []
        for key in ids:
            parsed = InstrumentId.parse(key)
            found.append(research_instrument(parsed.code, RESEARCH_CURRENCY, venue=parsed.venue))
        return found

    def bar_checks(self, settings: Settings) -> BarChecks:
        """Research bars need no venue calendar: any day, any minute is a trading one."""
        if self.research:
            return BarChecks(None, max_jump=settings.data.max_jump)
        return bar_checks(settings)

    def kernel_config(
        self, settings: Settings, paper: PaperConfig, universe: int, *, checked: bool = False
    ) -> KernelConfig:
        """The settings' services, on this account's cash (and, for research, its sizing).

        ``checked``: the bars passed the collector's checks as they were read (a file); a
        store may hold bars from before a check existed (``jts data check``), so its are
        checked again on the way to the strategies.
        """
        config = kernel_config(settings, universe_size=universe)
        portfolio = replace(
            config.portfolio,
            account=paper.account,
            currency=paper.currency,
            starting_cash=paper.starting_cash,
            # Snapshots are for watchers; a backtest samples equity itself.
            snapshot_every_bars=10**9,
            snapshot_on_fill=False,
        )
        # The direct bus delivers inline: one bar at a time costs no task per bar.
        collector = replace(config.collector, checked_upstream=checked, publish_concurrently=False)
        config = replace(config, portfolio=portfolio, collector=collector)
        if not self.research:
            return config
        return replace(
            config,
            collector=replace(config.collector, calendars=None, minute_bars_only=False),
            sizing=replace(config.sizing, all_cash=True, order_type=OrderType.MARKET),
        )


KRX_ACCOUNT = AccountModel("krx", research=False)
RESEARCH_ACCOUNT = AccountModel("research", research=True)
ACCOUNTS: dict[str, AccountModel] = {a.name: a for a in (KRX_ACCOUNT, RESEARCH_ACCOUNT)}


def account_model(name: str) -> AccountModel:
    model = ACCOUNTS.get(name)
    if model is None:
        raise ConfigurationError(f"--account {name!r}: known accounts are {', '.join(ACCOUNTS)}")
    return model
