"""Builds the paper venue: calendar, fee schedule, ledger, matching engine and both clients."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jts.brokers.common.calendars import AlwaysOpenCalendar
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.data import BatchSource
from jts.brokers.paper.data import PaperMarketDataClient
from jts.brokers.paper.execution import PaperExecutionClient
from jts.domain.enums import AssetClass
from jts.domain.instruments import Instrument
from jts.ports.calendar import TradingCalendar
from jts.ports.clock import Clock
from jts.ports.storage import BarStore
from jts.sim.account import SimAccount
from jts.sim.feed import SimulatedBarFeed
from jts.sim.feed import demo_instruments
from jts.sim.fees import CommissionRule
from jts.sim.fees import FeeSchedule
from jts.sim.matching import MatchingConfig
from jts.sim.matching import MatchingEngine
from jts.sim.rules import RESEARCH_RULES
from jts.sim.rules import VENUE_RULES
from jts.sim.slippage import parse_slippage


@dataclass(frozen=True, slots=True)
class PaperVenue:
    """Everything the composition root wires: both ports plus the shared engine."""

    config: PaperConfig
    calendar: TradingCalendar
    engine: MatchingEngine
    execution: PaperExecutionClient
    market_data: PaperMarketDataClient
    feed: SimulatedBarFeed | None


def build_paper_venue(
    clock: Clock,
    config: PaperConfig | None = None,
    *,
    instruments: Sequence[Instrument] | None = None,
    source: BatchSource | None = None,
    start_session: date | None = None,
    sessions: int = 1,
    seed: int = 0,
    calendar: TradingCalendar | None = None,
    fees: FeeSchedule | None = None,
    reference_prices: Mapping[str, Decimal] | None = None,
    bar_store: BarStore | None = None,
) -> PaperVenue:
    """A paper venue over ``source``, or over a SimulatedBarFeed when no source is given.

    The simulated feed starts at ``start_session`` (default: the clock's UTC
    date) and its pre-start closes become the engine's daily-limit references.
    """
    config = config or PaperConfig()
    research = config.rules == "research"
    universe = list(instruments) if instruments is not None else demo_instruments()
    if calendar is None:
        # The research account has no trading hours: every UTC day is one session.
        calendar = AlwaysOpenCalendar() if research else calendar_for_venue(config.market_venue)
    feed: SimulatedBarFeed | None = None
    references = dict(reference_prices or {})
    if source is None:
        first = start_session or clock.utc_now().date()
        feed = SimulatedBarFeed(universe, calendar, first, sessions, seed)
        source = feed
        references = {**feed.reference_prices(), **references}
    account = SimAccount(
        config.starting_cash,
        config.currency,
        config.account,
        allow_short=config.allow_short,
        allow_negative_cash=config.allow_negative_cash,
    )
    slippage = parse_slippage(config.slippage)
    engine = MatchingEngine(
        config.market_venue,
        universe,
        calendar,
        account,
        paper_fees(config, fees),
        MatchingConfig(
            participation_rate=slippage.participation_rate or config.participation_rate,
            slippage=slippage.model,
            market_order_buffer=config.market_order_buffer,
            settlement_days=config.settlement_days,
            id_prefix=config.id_prefix,
            rules=RESEARCH_RULES if research else VENUE_RULES,
            history_sessions=config.order_history_sessions,
        ),
    )
    for instrument_id, price in references.items():
        engine.set_reference(instrument_id, price)
    market_data = PaperMarketDataClient(
        source,
        universe,
        venue=config.name,
        bar_store=bar_store,
        history_limit=config.history_limit,
    )
    execution = PaperExecutionClient(engine, clock, venue=config.name)
    return PaperVenue(config, calendar, engine, execution, market_data, feed)


def paper_fees(config: PaperConfig, fees: FeeSchedule | None = None) -> FeeSchedule:
    """The default schedule, with ``config.commission_rate`` (if set) for the simulated venue.

    A research account charges ``commission_rate`` (default 0) exactly on every venue.
    """
    if fees is None and config.rules == "research":
        return FeeSchedule.research(config.commission_rate or Decimal(0))
    schedule = fees or FeeSchedule.default()
    if config.commission_rate is None:
        return schedule
    rule = CommissionRule.flat(config.commission_rate)
    schedule = schedule.with_commission(config.market_venue, rule)
    for asset_class in AssetClass:
        schedule = schedule.with_commission(config.market_venue, rule, asset_class)
    return schedule
