"""Live brokers as market data sources, built from settings."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from jts.app.settings import Settings
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.pool import KisAccountPool
from jts.brokers.kis.session import open_session
from jts.domain.errors import ConfigurationError
from jts.ports import ExecutionClient
from jts.ports import MarketDataClient
from jts.ports import TradingCalendar

LIVE_SOURCES = ("kis", "creon")


def broker_market_data(settings: Settings, source: str) -> MarketDataClient:
    """A connected-on-demand client; credentials are checked here, before any I/O."""
    state_dir = settings.data_dir / "brokers"
    if source == "kis":
        trading = None
        if settings.execution.venue == "kis" and settings.kis.accounts:
            trading = settings.kis.trading_account or settings.kis.accounts[0].name
        # The trading account's socket carries order execution's fill notices.
        pool = KisAccountPool(settings.kis, state_dir=state_dir, socket_reserved_for=trading)
        return pool.market_data()
    if source == "creon":
        from jts.brokers.creon.factory import build_creon

        return build_creon(settings.creon, state_dir=None, watch=settings.feed.symbols).data
    raise ConfigurationError(f"{source!r} is not a live broker source ({', '.join(LIVE_SOURCES)})")


def broker_execution(settings: Settings, venue: str) -> ExecutionClient:
    """The live venue order execution trades on (``execution.venue``)."""
    state_dir = settings.data_dir / "brokers"
    if venue == "kis":
        kis = settings.kis
        if not kis.accounts:
            raise ConfigurationError("execution.venue 'kis' needs at least one [[kis.accounts]]")
        name = kis.trading_account or kis.accounts[0].name
        try:
            account = kis.account(name)
        except KeyError as exc:
            raise ConfigurationError(f"kis.trading_account: {exc.args[0]}") from None
        session = open_session(kis, account, state_dir=state_dir)
        return KisExecution(session.rest, state_dir=state_dir, realtime=session.realtime)
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
