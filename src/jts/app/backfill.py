"""History from a venue into the time-series store, only where the store has gaps.

Each symbol's stored minutes are compared with the calendar's session minutes
(the closing auction's minute included: ``bar_minutes``); only missing ranges are
requested, so a re-run costs nothing and a live
collector can call it every few minutes to mend what a dropped socket lost.
Minutes a venue has no bar for (no trade happened) stay missing and are
reported, not invented; a caller that mends repeatedly passes ``known_empty`` so
a range the venue answered with nothing is not asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jts.core.bar_checks import BarChecks
from jts.core.gaps import bar_minutes
from jts.core.gaps import minutes_in
from jts.core.gaps import missing_ranges
from jts.domain.errors import BrokerError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.ports import BarStore
from jts.ports import MarketDataClient
from jts.ports import TradingCalendar

log = logging.getLogger("jts.app.backfill")


@dataclass(frozen=True, slots=True)
class BackfillResult:
    instrument_id: str
    missing: int  # minutes missing before
    written: int  # bars stored
    still_missing: int
    error: str | None = None


async def backfill(
    client: MarketDataClient,
    store: BarStore,
    calendar: TradingCalendar,
    instrument_ids: Sequence[str],
    days: Sequence[date],
    *,
    now_ns: int | None = None,
    on_symbol: Callable[[BackfillResult], None] | None = None,
    known_empty: set[tuple[str, int, int]] | None = None,
    checks: BarChecks | None = None,
) -> list[BackfillResult]:
    """Fill each instrument's gaps; ``checks`` refuses what live data would refuse."""
    sessions = [bar_minutes(calendar, day) for day in days]
    if not sessions:
        return []
    first, last = sessions[0][0], sessions[-1][1]
    results = []
    for instrument_id in instrument_ids:
        stored = await store.read_bars(instrument_id, first, last, Timeframe.M1)
        gaps = missing_ranges(sessions, (b.ts for b in stored), until=now_ns)
        written, error = 0, None
        for start, end in gaps:
            if known_empty is not None and (instrument_id, start, end) in known_empty:
                continue
            try:
                bars = await client.historical_bars(instrument_id, start, end, Timeframe.M1)
            except BrokerError as exc:
                error = str(exc)
                log.warning("backfill of %s stopped: %s", instrument_id, exc)
                break
            if not bars and known_empty is not None:
                known_empty.add((instrument_id, start, end))
            if checks is not None:
                bars = _checked(checks, bars)
            written += await store.write_bars(bars)
        result = BackfillResult(
            instrument_id, minutes_in(gaps), written, max(0, minutes_in(gaps) - written), error
        )
        results.append(result)
        if on_symbol is not None:
            on_symbol(result)
    return results


def _checked(checks: BarChecks, bars: Sequence[Bar]) -> list[Bar]:
    """The broker's bars that pass the checks every bar passes; the rest logged, not stored."""
    kept = []
    for bar in bars:
        problem = checks.check_bar(bar).problem
        if problem is None:
            kept.append(bar)
        else:
            log.warning("backfill: %s bar at %d refused: %s", bar.instrument_id, bar.ts, problem)
    return kept
