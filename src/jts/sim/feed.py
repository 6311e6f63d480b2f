"""A seeded, deterministic one-minute bar feed that looks enough like KRX to exercise JTS.

Prices follow a geometric random walk per symbol, vectorised over all symbols
with numpy so 1,800 symbols stay cheap; every open, high, low and close is
snapped to the instrument's tick grid and kept inside the daily limit around
the previous session's close. Volume (in shares) is U-shaped over the session,
as on real exchanges. Bars exist only inside the calendar's sessions (so the
first session of a year starts at 10:00 when the calendar says so).

The feed is pure and lazy: iterating it generates one minute at a time (no
sleeping, no precomputed history), and iterating it again replays exactly the
same bars for the same seed. ``batch.ts`` is the bar close, when it is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from decimal import Decimal
from math import log

import numpy as np
import numpy.typing as npt

from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.ticks import TickRule
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.ports.calendar import TradingCalendar
from jts.sim.universe import demo_instruments
from jts.sim.universe import demo_start_prices
from jts.sim.universe import synthetic_krx_instruments

__all__ = [
    "SimulatedBarFeed",
    "demo_instruments",
    "demo_start_prices",
    "synthetic_krx_instruments",
]

Floats = npt.NDArray[np.float64]


class _Grid:
    """A tick rule as arrays, for snapping many prices at once."""

    def __init__(self, rule: TickRule, members: list[int]) -> None:
        self.members = np.asarray(members, dtype=np.intp)
        if rule.fixed is not None:
            self.uppers = np.empty(0, dtype=np.float64)
            ticks = [rule.fixed]
        else:
            assert rule.top is not None
            self.uppers = np.asarray([float(upper) for upper, _ in rule.bands])
            ticks = [tick for _, tick in rule.bands] + [rule.top]
        self.ticks = np.asarray([float(tick) for tick in ticks])
        # Decimal places that print every grid price exactly (0 for KRX stocks).
        self.places = max(max(0, -int(tick.as_tuple().exponent)) for tick in ticks)

    def snap(self, prices: Floats, how: str) -> Floats:
        tick = self.ticks[np.searchsorted(self.uppers, prices, side="right")]
        steps = prices / tick
        if how == "down":
            steps = np.floor(steps)
        elif how == "up":
            steps = np.ceil(steps)
        else:
            steps = np.rint(steps)
        result: Floats = np.maximum(steps, 1.0) * tick
        return result


class SimulatedBarFeed:
    """Iterates ``MarketDataBatch`` per minute over ``sessions`` trading sessions."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        calendar: TradingCalendar,
        start_session: date,
        sessions: int,
        seed: int = 0,
        *,
        start_prices: Mapping[str, Decimal] | None = None,
        minute_volatility: float = 0.0012,
        overnight_volatility: float = 0.01,
    ) -> None:
        if not instruments:
            raise ValueError("the feed needs at least one instrument")
        if sessions < 1:
            raise ValueError("the feed needs at least one session")
        self.instruments = list(instruments)
        self.calendar = calendar
        self.seed = seed
        self.minute_volatility = minute_volatility
        self.overnight_volatility = overnight_volatility
        self.session_dates = _first_sessions(calendar, start_session, sessions)
        setup = np.random.default_rng([seed, 1])
        known = {**demo_start_prices(), **(start_prices or {})}
        random_starts = np.exp(setup.uniform(log(3_000), log(400_000), len(self.instruments)))
        self._grids = _grids(self.instruments, self.session_dates[0])
        starts = np.asarray(
            [
                float(known.get(inst.key, random_starts[i]))
                for i, inst in enumerate(self.instruments)
            ]
        )
        self._start = self._snap(starts, "nearest")
        self._sigma = minute_volatility * setup.uniform(0.6, 1.6, len(self.instruments))
        # Average shares per minute: a turnover of 20 million to 2 billion KRW a minute.
        turnover = np.exp(setup.uniform(log(2e7), log(2e9), len(self.instruments)))
        self._base_volume = turnover / self._start
        self._lots = np.asarray([float(inst.lot_size) for inst in self.instruments])
        self._unit_lots = all(inst.lot_size == 1 for inst in self.instruments)

    @property
    def instrument_ids(self) -> list[str]:
        return [instrument.key for instrument in self.instruments]

    def reference_prices(self) -> dict[str, Decimal]:
        """The close before the first session: the base of its daily price limits."""
        return dict(zip(self.instrument_ids, self._decimals(self._start), strict=True))

    def __iter__(self) -> Iterator[MarketDataBatch]:
        rng = np.random.default_rng([self.seed, 2])
        close = self._start.copy()
        latent = self._start.copy()
        for session in self.session_dates:
            self._grids = _grids(self.instruments, session)  # ladders are dated
            lower, upper = self._limits(close, session)
            gap = rng.normal(0.0, self.overnight_volatility, len(close))
            latent = np.clip(latent * np.exp(gap), lower, upper)
            close = np.clip(self._snap(latent, "nearest"), lower, upper)
            opened, closed = self.calendar.session_bounds(session)
            minutes = max(1, (closed - opened) // NANOS_PER_MINUTE)
            for minute in range(minutes):
                ts = opened + minute * NANOS_PER_MINUTE
                latent, close, bars = self._minute(
                    rng, ts, minute / max(1, minutes - 1), latent, close, lower, upper
                )
                yield MarketDataBatch(ts=ts + NANOS_PER_MINUTE, bars=bars)

    def _minute(
        self,
        rng: np.random.Generator,
        ts: int,
        progress: float,
        latent: Floats,
        previous_close: Floats,
        lower: Floats,
        upper: Floats,
    ) -> tuple[Floats, Floats, tuple[Bar, ...]]:
        n = len(latent)
        latent = np.clip(latent * np.exp(rng.normal(0.0, 1.0, n) * self._sigma), lower, upper)
        open_ = previous_close
        close = np.clip(self._snap(latent, "nearest"), lower, upper)
        wick = np.abs(rng.normal(0.0, 0.5, (2, n))) * self._sigma
        high = np.clip(self._snap(np.maximum(open_, close) * (1 + wick[0]), "up"), lower, upper)
        low = np.clip(self._snap(np.minimum(open_, close) * (1 - wick[1]), "down"), lower, upper)
        shape = 0.6 + 2.4 * (2 * progress - 1) ** 2  # U: busy open and close, quiet lunch
        shares = self._base_volume * shape * rng.lognormal(0.0, 0.5, n)
        lots = np.floor(shares / self._lots)
        columns = zip(
            self.instrument_ids,
            self._decimals(open_),
            self._decimals(high),
            self._decimals(low),
            self._decimals(close),
            self._volumes(lots),
            strict=True,
        )
        bars = tuple(Bar(key, Timeframe.M1, ts, o, h, lo, c, v) for key, o, h, lo, c, v in columns)
        return latent, close, bars

    def _limits(self, reference: Floats, session: date) -> tuple[Floats, Floats]:
        """Daily limits (on the grid) around each symbol's previous close; none -> unbounded."""
        lower = np.full(len(reference), 0.0)
        upper = np.full(len(reference), np.inf)
        for i, (inst, ref) in enumerate(
            zip(self.instruments, self._decimals(reference), strict=True)
        ):
            limits = inst.price_limits(ref, session)
            if limits is not None:
                lower[i], upper[i] = float(limits[0]), float(limits[1])
        return lower, upper

    def _snap(self, prices: Floats, how: str) -> Floats:
        result = np.empty_like(prices)
        for grid in self._grids:
            result[grid.members] = grid.snap(prices[grid.members], how)
        return result

    def _decimals(self, prices: Floats) -> list[Decimal]:
        values: list[Decimal] = [Decimal(0)] * len(prices)
        for grid in self._grids:
            picked = prices[grid.members]
            if grid.places == 0:
                exact = [Decimal(int(price)) for price in np.rint(picked).astype(np.int64).tolist()]
            else:
                exact = [Decimal(f"{price:.{grid.places}f}") for price in picked.tolist()]
            for index, value in zip(grid.members.tolist(), exact, strict=True):
                values[index] = value
        return values

    def _volumes(self, lots: Floats) -> list[Decimal]:
        counts = lots.astype(np.int64).tolist()
        if self._unit_lots:
            return [Decimal(count) for count in counts]
        return [
            Decimal(count) * inst.lot_size
            for count, inst in zip(counts, self.instruments, strict=True)
        ]


def _grids(instruments: Sequence[Instrument], session: date) -> list[_Grid]:
    """The instruments grouped by the ladder each is on in ``session``."""
    members: dict[TickRule, list[int]] = {}
    for i, instrument in enumerate(instruments):
        members.setdefault(instrument.tick_rule_on(session), []).append(i)
    return [_Grid(rule, indices) for rule, indices in members.items()]


def _first_sessions(calendar: TradingCalendar, start: date, count: int) -> list[date]:
    """The first ``count`` sessions on or after ``start``."""
    span = count * 2 + 30
    for _ in range(20):
        found = calendar.sessions(start, start + timedelta(days=span))
        if len(found) >= count:
            return found[:count]
        span *= 2
    raise ValueError(f"the calendar has fewer than {count} sessions from {start}")
