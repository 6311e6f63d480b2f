"""Where the embedded platform's market data comes from: simulated, a file, or the store.

``simulated`` is the seeded KRX feed; ``file`` replays one-minute bars from a
CSV or Parquet file (bad rows are reported and skipped, as ``jts data import``
does); ``store`` replays bars already in the time-series store. A resumed run
continues after the latest market time recorded anywhere (bars, orders, fills):
a simulated feed from the next session, at the last stored closing prices; a
replay skips what it already played.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from jts.app.checks import bar_checks
from jts.app.settings import Settings
from jts.brokers.paper.data import BatchSource
from jts.brokers.paper.data import batches_from_bars
from jts.brokers.paper.data import store_batches
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import KRX
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.domain.market import Timeframe
from jts.domain.timestamps import KST
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import ns_to_dt
from jts.ports import BarStore
from jts.ports import TradingCalendar
from jts.sim.feed import SimulatedBarFeed
from jts.sim.fees import krx_tax_schedule_start
from jts.sim.universe import demo_instruments
from jts.sim.universe import synthetic_krx_instruments
from jts.storage.files import read_bar_file

log = logging.getLogger("jts.app")

# How far ahead to look for sessions when counting (holidays and weekends included).
_CALENDAR_DAYS_PER_SESSION = 2


@dataclass(frozen=True, slots=True)
class MarketSource:
    instruments: list[Instrument]
    source: BatchSource
    reference_prices: dict[str, Decimal]
    feed: SimulatedBarFeed | None
    planned_minutes: int | None
    description: str


def select_instruments(settings: Settings) -> list[Instrument]:
    """The simulated universe, or the configured subset of it."""
    stocks = settings.feed.synthetic_symbols
    universe = {
        i.key: i for i in (synthetic_krx_instruments(stocks) if stocks else demo_instruments())
    }
    if not settings.feed.symbols:
        return list(universe.values())
    unknown = [s for s in settings.feed.symbols if s not in universe]
    if unknown:
        raise ConfigurationError(
            f"feed.symbols: {', '.join(unknown)} not in the simulated universe "
            f"({', '.join(universe)})"
        )
    return [universe[s] for s in settings.feed.symbols]


_SETTLEMENT_SESSIONS = 2


def session_window(calendar: TradingCalendar, start: date, sessions: int | None) -> list[date]:
    """The first ``sessions`` sessions from ``start``; None means all the calendar knows.

    Asking for more sessions than the calendar has is refused before anything runs: the
    run would otherwise stop short of what was asked, or fail midway.
    """
    wanted = (sessions or 400) + _SETTLEMENT_SESSIONS
    horizon = start + timedelta(days=wanted * _CALENDAR_DAYS_PER_SESSION + 14)
    days = calendar.sessions(start, horizon)
    if sessions is None:
        # Up to the calendar's end, less the sessions whose sales could not settle.
        while days and not _settles(calendar, days[-1]):
            days.pop()
        return days
    # A sale on the last session settles (and is taxed) T+2 sessions later: those too.
    needed = sessions + _SETTLEMENT_SESSIONS
    if len(days) < needed:
        raise ConfigurationError(
            f"feed.start_date {start} + feed.sessions {sessions}: the trading calendar has "
            f"{len(days)} session(s) from {start}, {needed} are needed (with T+2 settlement); "
            "start earlier or ask for fewer sessions"
        )
    return days[:sessions]


def _settles(calendar: TradingCalendar, day: date) -> bool:
    try:
        calendar.settlement_date(day, _SETTLEMENT_SESSIONS)
    except ConfigurationError:
        return False
    return True


def session_minutes(calendar: TradingCalendar, days: list[date]) -> int:
    total = 0
    for day in days:
        opens, closes = calendar.session_bounds(day)
        total += (closes - opens) // NANOS_PER_MINUTE
    return total


async def market_source(
    settings: Settings,
    calendar: TradingCalendar,
    bar_store: BarStore,
    *,
    instruments: list[Instrument] | None = None,
    sessions: int | None = None,
    resume: bool = False,
    recorded_until: int = 0,
) -> MarketSource:
    """Where the run's bars come from; ``recorded_until`` is the latest market time stored."""
    kind = settings.feed.source
    if kind in ("kis", "creon"):
        raise ConfigurationError(
            f"feed.source {kind!r} is a live broker: run it with `jts serve market-data`"
            " (the embedded demo and run commands replay simulated or stored data)"
        )
    after = recorded_until if resume else 0
    if kind == "file":
        return await _file_source(settings, after)
    if kind == "store":
        return await _store_source(settings, calendar, bar_store, sessions, after)
    return await _simulated_source(
        settings, calendar, bar_store, instruments, sessions, resume, after
    )


async def _simulated_source(
    settings: Settings,
    calendar: TradingCalendar,
    bar_store: BarStore,
    instruments: list[Instrument] | None,
    sessions: int | None,
    resume: bool,
    recorded_until: int,
) -> MarketSource:
    universe = instruments or select_instruments(settings)
    start = settings.feed.start_date
    start_prices: dict[str, Decimal] = {}
    if resume:
        latest = await bar_store.latest_bars([i.key for i in universe])
        last = max([recorded_until, *(bar.close_ts for bar in latest.values())])
        if last > 0:
            # A bar's close (or an order at it) at 15:30 still belongs to that session.
            last_session = calendar.session_of(last - 1) or _session_before(calendar, last)
            if last_session is not None and last_session >= start:
                start = last_session + timedelta(days=1)
                start_prices = {key: bar.close for key, bar in latest.items()}
    days = session_window(calendar, start, sessions)
    if not days:
        raise ConfigurationError(f"feed.start_date: no KRX sessions known from {start}")
    feed = SimulatedBarFeed(
        universe, calendar, days[0], len(days), settings.feed.seed, start_prices=start_prices
    )
    resumed = " (resumed after the latest recorded market time)" if start_prices else ""
    return MarketSource(
        instruments=universe,
        source=feed,
        reference_prices=feed.reference_prices(),
        feed=feed,
        planned_minutes=session_minutes(calendar, days),
        description=(
            f"simulated KRX feed, {len(universe)} symbols, {len(days)} session(s) "
            f"from {days[0]}{resumed}, seed {settings.feed.seed}"
        ),
    )


def _session_before(calendar: TradingCalendar, ts: int) -> date | None:
    """The last session that ended before ``ts`` (an order stamped between sessions)."""
    day = ns_to_dt(ts).date()
    sessions = calendar.sessions(day - timedelta(days=14), day)
    ended = [d for d in sessions if calendar.session_bounds(d)[1] <= ts]
    return ended[-1] if ended else None


def _refuse_before_fee_schedule(path: Path, first_ts: int) -> None:
    """A replay that starts before the KRX tax schedule would fail at its first sale."""
    first = ns_to_dt(first_ts).astimezone(KST).date()
    known = krx_tax_schedule_start()
    if first < known:
        raise ConfigurationError(
            f"feed.replay_file: {path} starts on {first}, before the KRX tax schedule "
            f"({known}): its first sale could not be costed; replay bars from {known} on"
        )


async def _file_source(settings: Settings, after: int) -> MarketSource:
    path = settings.feed.replay_file
    if path is None:
        raise ConfigurationError("feed.replay_file: needed when feed.source is 'file'")
    # No wall-clock limit: a replay runs in simulated time, which may lie ahead of today.
    result = await asyncio.to_thread(read_bar_file, path, checks=bar_checks(settings))
    for error in result.errors[:20]:
        log.warning("%s line %d skipped: %s", path, error.line, error.message)
    for flag in result.flags[:20]:
        log.warning("%s line %d flagged: %s", path, flag.line, flag.message)
    if not result.bars:
        raise ConfigurationError(f"feed.replay_file: {path} has no valid bars")
    _refuse_before_fee_schedule(path, min(bar.ts for bar in result.bars))
    # A resumed replay never plays a minute again that the stores already hold.
    bars = [bar for bar in result.bars if bar.close_ts > after]
    if not bars:
        raise ConfigurationError(
            f"feed.replay_file: every bar of {path} is at or before the latest recorded "
            f"market time ({ns_to_dt(after).isoformat()}); nothing left to replay"
        )
    universe = instruments_for(sorted({bar.instrument_id for bar in result.bars}))
    skipped = len(result.bars) - len(bars)
    return MarketSource(
        instruments=universe,
        source=batches_from_bars(bars),
        reference_prices={},
        feed=None,
        planned_minutes=len({bar.ts for bar in bars}),
        description=(
            f"replay of {path}: {len(bars):,} bars, {len(universe)} symbols"
            + (f", {skipped:,} already played" if skipped else "")
            + (f", {len(result.errors):,} bad rows skipped" if result.errors else "")
        ),
    )


async def _store_source(
    settings: Settings,
    calendar: TradingCalendar,
    bar_store: BarStore,
    sessions: int | None,
    after: int,
) -> MarketSource:
    ids = list(settings.feed.symbols) or await bar_store.instruments()
    if not ids:
        raise ConfigurationError("feed.source is 'store' but the time-series store has no bars")
    days = session_window(calendar, settings.feed.start_date, sessions or settings.feed.sessions)
    if not days:
        raise ConfigurationError(f"feed.start_date: no sessions from {settings.feed.start_date}")
    # Bars are keyed by open time: one that closes after ``after`` opens at or after it - 1m.
    start_ns = max(calendar.session_bounds(days[0])[0], after - NANOS_PER_MINUTE + 1)
    end_ns = calendar.session_bounds(days[-1])[1]
    if start_ns >= end_ns:
        raise ConfigurationError(
            "feed.source 'store': the stored bars of these sessions were all played already "
            f"(latest recorded market time {ns_to_dt(after).isoformat()})"
        )
    return MarketSource(
        instruments=instruments_for(ids),
        source=store_batches(bar_store, ids, start_ns, end_ns, Timeframe.M1),
        reference_prices={},
        feed=None,
        planned_minutes=session_minutes(calendar, days),
        description=f"replay from the time-series store: {len(ids)} symbols, {days[0]}..{days[-1]}",
    )


def instruments_for(ids: list[str]) -> list[Instrument]:
    known = {i.key: i for i in demo_instruments()}
    result = []
    for key in ids:
        if key in known:
            result.append(known[key])
            continue
        instrument_id = InstrumentId.parse(key)
        if instrument_id.venue != KRX:
            raise ConfigurationError(f"replay of {key}: only KRX instruments can be replayed")
        result.append(krx_stock(instrument_id.code, instrument_id.code))
    return result
