"""The KIS clients the platform runs, built from settings: what the app asks for.

Market data comes from the account pool (every account's budget and socket);
order execution from the trading account alone, whose socket also carries the
fill notices (so the pool keeps that socket's registrations for them).
Credentials are checked here, before any I/O, so a missing one stops at start.
"""

from __future__ import annotations

from pathlib import Path

from jts.brokers.kis.config import KisAccountConfig
from jts.brokers.kis.config import KisSettings
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.pool import KisAccountPool
from jts.brokers.kis.pool import KisPoolMarketData
from jts.brokers.kis.session import open_session
from jts.domain.errors import ConfigurationError


def trading_account(settings: KisSettings) -> KisAccountConfig:
    """The account that places orders: ``kis.trading_account``, else the first one."""
    if not settings.accounts:
        raise ConfigurationError("execution.venue 'kis' needs at least one [[kis.accounts]]")
    name = settings.trading_account or settings.accounts[0].name
    try:
        return settings.account(name)
    except KeyError as exc:
        raise ConfigurationError(f"kis.trading_account: {exc.args[0]}") from None


def kis_market_data(settings: KisSettings, *, state_dir: Path, trading: bool) -> KisPoolMarketData:
    """Market data over every account; ``trading``: KIS is also the order venue."""
    reserved = trading_account(settings).name if trading and settings.accounts else None
    pool = KisAccountPool(settings, state_dir=state_dir, socket_reserved_for=reserved)
    return pool.market_data()


def kis_execution(settings: KisSettings, *, state_dir: Path) -> KisExecution:
    """Order execution on the trading account, with its fill-notice socket."""
    session = open_session(settings, trading_account(settings), state_dir=state_dir)
    return KisExecution(session.rest, state_dir=state_dir, realtime=session.realtime)
