"""Live brokers as market data sources, built from settings."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from jts.app.settings import Settings
from jts.brokers.kis.factory import kis_execution
from jts.brokers.kis.factory import kis_market_data
from jts.domain.errors import ConfigurationError
from jts.ports import ExecutionClient
from jts.ports import MarketDataClient
from jts.ports import TradingCalendar

LIVE_SOURCES = ("kis", "creon")


def broker_market_data(settings: Settings, source: str) -> MarketDataClient:
    """A connected-on-demand client; credentials are checked here, before any I/O."""
    state_dir = settings.data_dir / "brokers"
    if source == "kis":
        # The trading account's socket carries order execution's fill notices.
        trading = settings.execution.venue == "kis"
        return kis_market_data(settings.kis, state_dir=state_dir, trading=trading)
    if source == "creon":
        from jts.brokers.creon.factory import build_creon

        return build_creon(settings.creon, state_dir=None, watch=settings.feed.symbols).data
    raise ConfigurationError(f"{source!r} is not a live broker source ({', '.join(LIVE_SOURCES)})")


def broker_execution(settings: Settings, venue: str) -> ExecutionClient:
    """The live venue order execution trades on (``execution.venue``)."""
    state_dir = settings.data_dir / "brokers"
    if venue == "kis":
        return kis_execution(settings.kis, state_dir=state_dir)
    if venue == "creon":
        from jts.brokers.creon.factory import build_creon

        return build_creon(settings.creon, state_dir=state_dir).execution
    raise ConfigurationError(f"{venue!r} is not a live broker ({', '.join(LIVE_SOURCES)})")


def broker_symbols(settings: Settings, source: str) -> list[str]:
    if source == "kis":
        return list(settings.kis.full_universe() or settings.feed.symbols)
    return list(settings.feed.symbols)


def recent_sessions(calendar: TradingCalendar, today: date, count: int) -> list[date]:
    """The last ``count`` sessions up to and including ``today``."""
    if count <= 0:
        return []
    days = calendar.sessions(today - timedelta(days=count * 2 + 14), today)
    return days[-count:]
