"""Backtest speed: the SMA 10/30 cross through the JTS kernel, backtesting.py and backtrader.

One symbol's one-minute bars, a seeded random walk on whole won in ticks of 100, are
generated once and written to a Parquet file in a temporary folder; every engine reads
that file:

- **JTS**: ``jts backtest``'s engine exactly as the command runs it
  (``prepare_backtest`` + ``PreparedBacktest.run``: the trading kernel on a simulated
  clock, in-memory stores, the direct bus and the paper venue with KRX's costs), with
  ``sma_cross`` fast 10, slow 30. Loading the file (read, checked, grouped into
  minutes) is timed apart from the replay; bars/s is bars over replay seconds.
- **backtesting.py** 0.6.6: ``Backtest`` with the same cross (``crossover`` of the two
  SMAs; buy on the cross up, close on the cross down), no commission.
- **backtrader** 1.9.78.123: ``Cerebro`` over a ``PandasData`` feed of the same frame,
  ``CrossOver`` of two SMAs, the same rules; ``runonce`` (its vectorised indicators).

The bars sit on KRX session minutes from 2023-01-02 on (the first day the KRX fee
schedule covers), since the KRX account trades only in session. The exchange calendar
ends a year ahead of today, so one symbol holds at most about 468,000 session minutes
(the last sessions stay out: their T+2 settlement would fall past the calendar):
``--bars`` beyond that is capped, and the report says so.

Every engine's replay is timed in wall-clock and in CPU seconds (``process_time``);
on a shared machine the CPU figure is the one to compare. ``--profile`` replays the
first 100,000 bars a second time under cProfile and splits a bar's cost by component.

``--memory`` runs the other measurement: 1,800 symbols x 5 sessions through the same
kernel backtest in a subprocess, reading VmRSS at every session's close, to see
whether memory stays flat from session to session.

Run alone: ``.venv/bin/python benchmarks/bench_backtest.py [--bars N] [--quick]
[--peer-bars N] [--profile] [--memory --symbols 1800 --sessions 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from harness import bench_settings
from harness import rss_mib
from jts.app.backtest import BacktestRequest
from jts.app.backtest import PreparedBacktest
from jts.app.backtest import prepare_backtest
from jts.app.backtest_data import BarInput
from jts.brokers.common.calendars import calendar_for_venue
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_MILLI
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.sim.fees import krx_tax_schedule_start

BARS = 1_000_000
QUICK_BARS = 20_000
SYMBOL = "KRX:005930"
FAST, SLOW = 10, 30
SEED = 11
TICK = 100
# The walk is folded into [LOW, LOW + SPAN) so every price keeps the tick of 100 won.
LOW, SPAN = 50_000, 49_000
CASH = Decimal(100_000_000)
MEMORY_SYMBOLS, MEMORY_SESSIONS = 1_800, 5
SETTLEMENT_MARGIN = 5


# -- the data -------------------------------------------------------------------------


def session_minutes(first: date, count: int) -> list[int]:
    """The first ``count`` KRX session minutes (bar open times, ns) from ``first`` on."""
    calendar = calendar_for_venue("KRX")
    minutes: list[int] = []
    # The last few sessions stay out: a trade there settles (T+2) past the calendar's end.
    for day in calendar.sessions(first, calendar.last_session)[:-SETTLEMENT_MARGIN]:
        opened, closed = calendar.session_bounds(day)
        minutes.extend(range(opened, closed, NANOS_PER_MINUTE))
        if len(minutes) >= count:
            break
    return minutes[:count]


def walk(count: int, seed: int) -> dict[str, np.ndarray]:
    """Open, high, low, close (whole won, ticks of 100) and volume of a folded random walk."""
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.integers(-1, 2, size=count + 1)) + 200
    width = SPAN // TICK
    folded = level % (2 * width)
    ticks = np.where(folded < width, folded, 2 * width - folded)
    prices = LOW + TICK * ticks
    opens, closes = prices[:-1], prices[1:]
    highs = np.maximum(opens, closes) + TICK * rng.integers(0, 2, size=count)
    lows = np.minimum(opens, closes) - TICK * rng.integers(0, 2, size=count)
    volume = rng.integers(10_000, 200_000, size=count)
    return {"open": opens, "high": highs, "low": lows, "close": closes, "volume": volume}


def write_bars(path: Path, count: int, seed: int = SEED) -> int:
    """The benchmark's bars as a JTS bar file (Parquet, prices as decimal text)."""
    minutes = session_minutes(krx_tax_schedule_start(), count)
    values = walk(len(minutes), seed)
    table = pa.table(
        {
            "timestamp": pa.array(
                [ts // NANOS_PER_MILLI for ts in minutes], type=pa.timestamp("ms", tz="UTC")
            ),
            "symbol": pa.array([SYMBOL] * len(minutes), type=pa.string()),
            **{
                name: pa.array(column.astype(str), type=pa.string())
                for name, column in values.items()
            },
        }
    )
    pq.write_table(table, path)
    return len(minutes)


def read_frame(path: Path, count: int) -> pd.DataFrame:
    """The first ``count`` bars of the file as the OHLCV frame both peers take."""
    table = pq.read_table(path).slice(0, count).to_pandas()
    frame = pd.DataFrame(
        {
            name.capitalize(): table[name].astype(float)
            for name in ("open", "high", "low", "close", "volume")
        }
    )
    frame.index = pd.DatetimeIndex(table["timestamp"].dt.tz_convert(None))
    return frame


# -- the engines ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineRun:
    engine: str
    bars: int
    seconds: float
    # Orders filled (buys and sells): the same cross gives about the same number.
    orders: int
    # CPU time of this process over the same span: on a shared machine the fairer figure.
    cpu_seconds: float
    load_seconds: float = 0.0
    # JTS only: the run's fingerprint and fill count, to hold a faster kernel to the same run.
    fingerprint: str = ""
    fills: int = 0

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.seconds

    @property
    def bars_per_cpu_second(self) -> float:
        return self.bars / self.cpu_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "bars_per_second": round(self.bars_per_second),
            "bars_per_cpu_second": round(self.bars_per_cpu_second),
        }


async def prepare_jts(path: Path, data_dir: Path) -> PreparedBacktest:
    """``jts backtest --parquet PATH --strategy sma_cross`` as the command builds it."""
    settings = bench_settings(data_dir, execution={"order_type": "MARKET"})
    request = BacktestRequest(
        strategy="sma_cross",
        params={"fast": FAST, "slow": SLOW, "cross": "adjacent"},
        bars=BarInput("parquet", path),
        cash=CASH,
    )
    return await prepare_backtest(settings, request)


async def run_jts(path: Path, bars: int, profile: cProfile.Profile | None = None) -> EngineRun:
    with tempfile.TemporaryDirectory(prefix="jts-bench-") as folder:
        started = time.perf_counter()
        prepared = await prepare_jts(path, Path(folder))
        loaded = time.perf_counter() - started
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        result = await prepared.run()
        if profile is not None:
            profile.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if result.steps != bars:
        raise SystemExit(f"JTS replayed {result.steps} minutes of {bars}: bars were skipped")
    orders = len({fill.order_id for fill in result.fills})
    return EngineRun(
        "JTS kernel",
        bars,
        seconds,
        orders,
        cpu,
        load_seconds=loaded,
        fingerprint=result.fingerprint,
        fills=len(result.fills),
    )


def run_backtesting_py(frame: pd.DataFrame) -> EngineRun:
    from backtesting import Backtest
    from backtesting import Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, FAST)
            self.slow = self.I(SMA, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                if not self.position:
                    self.buy(size=100)
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    backtest = Backtest(frame, SmaCross, cash=float(CASH), commission=0.0, finalize_trades=False)
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtest.run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    trades = int(stats["# Trades"])
    still_open = len(stats["_strategy"].trades)
    return EngineRun("backtesting.py 0.6.6", len(frame), seconds, 2 * trades + still_open, cpu)


def run_backtrader(frame: pd.DataFrame) -> EngineRun:
    import backtrader as bt

    class SmaCross(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=FAST), bt.ind.SMA(period=SLOW))
            self.filled = 0

        def notify_order(self, order: Any) -> None:
            if order.status == order.Completed:
                self.filled += 1

        def next(self) -> None:
            if self.cross > 0 and not self.position:
                self.buy(size=100)
            elif self.cross < 0 and self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(float(CASH))
    started, cpu = time.perf_counter(), time.process_time()
    (strategy,) = cerebro.run(runonce=True, preload=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return EngineRun("backtrader 1.9.78.123", len(frame), seconds, strategy.filled, cpu)


# (label, file suffix, function): where a replayed bar's time goes, nested by indent.
BREAKDOWN = (
    ("replay loop, all of it", "backtest/replay.py", "run_backtest"),
    ("  one market minute (venue, collector, settle, equity)", "backtest/replay.py", "step"),
    ("    venue: match the minute", "paper/execution.py", "match"),
    ("      matching engine, the bar itself", "sim/matching.py", "on_bar"),
    ("    venue: report fills to order execution", "paper/execution.py", "deliver"),
    ("      order execution: the venue's reports", "execution/service.py", "handle_report"),
    ("    collector: ingest the minute", "market_data/collector.py", "ingest"),
    ("      BarEvent.from_bar", "domain/events.py", "from_bar"),
    (
        "      strategy engine: take_bar (inline, through the bus)",
        "strategy_engine/engine.py",
        "take_bar",
    ),
    ("        sma_cross.on_bar (two SMAs, the cross)", "strategy/sma_cross.py", "on_bar"),
    (
        "      portfolio: mark to the close (inline, through the bus)",
        "portfolio/service.py",
        "mark_bar",
    ),
    ("    settle: drain, size held signals, route orders", "services/kernel.py", "settle"),
    (
        "      order execution: held signals sized, stored and sent",
        "execution/service.py",
        "release_signals",
    ),
    ("    equity sample", "portfolio/service.py", "equity"),
    ("  metrics, after the replay", "backtest/metrics.py", "measure"),
    ("  fingerprint, after the replay", "backtest/fingerprint.py", "fingerprint"),
    ("storage retry wrapper, every store call", "core/storage_retry.py", "call"),
    ("bus: publish and deliver, from every caller, handlers included", "bus/direct.py", "publish"),
)


def breakdown(
    profile: cProfile.Profile, bars: int, seconds: float
) -> list[tuple[str, float, float]]:
    """(label, share of the replay, unprofiled microseconds per bar) for ``BREAKDOWN``.

    cProfile slows every call alike only roughly, so the microseconds are the share of
    the profiled replay times the unprofiled cost of a bar: an estimate, not a timing.
    """
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    for (filename, _, function), (_, _, _, cumtime, _) in stats.items():
        for label, suffix, name in BREAKDOWN:
            if function == name and filename.endswith(suffix):
                found[label] = found.get(label, 0.0) + cumtime
    total = found.get(BREAKDOWN[0][0], 0.0) or 1.0
    per_bar = seconds / bars * 1e6
    return [
        (label, found.get(label, 0.0) / total, found.get(label, 0.0) / total * per_bar)
        for label, _, _ in BREAKDOWN
    ]


def render_breakdown(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| where | share | µs per bar |", "|---|---:|---:|"]
    for label, share, micros in rows:
        depth = (len(label) - len(label.lstrip())) // 2
        lines.append(f"| {'· ' * depth}{label.strip()} | {share:.0%} | {micros:.1f} |")
    return "\n".join(lines)


def profile_text(profile: cProfile.Profile, lines: int = 40) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    return out.getvalue()


PROFILE_BARS = 100_000


@dataclass(frozen=True, slots=True)
class SpeedResult:
    requested: int
    jts: EngineRun
    peers: list[EngineRun]
    # From a second, profiled JTS run (``--profile``) over the first PROFILE_BARS bars.
    breakdown: list[tuple[str, float, float]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested_bars": self.requested,
            "jts": self.jts.as_dict(),
            "peers": [peer.as_dict() for peer in self.peers],
            "breakdown": [
                {"where": label.strip(), "share": round(share, 3), "us_per_bar": round(us, 2)}
                for label, share, us in self.breakdown
            ],
        }


def measure_speed(
    console: Console, bars: int, peer_bars: int | None, *, profile: bool = False
) -> SpeedResult:
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="jts-bench-bars-") as folder:
        path = Path(folder) / "bars.parquet"
        written = write_bars(path, bars)
        if written < bars:
            console.print(f"the KRX calendar holds {written:,} session minutes: {bars:,} capped")
        console.print(f"JTS kernel: {written:,} bars")
        jts = asyncio.run(run_jts(path, written))
        console.print(
            f"  {jts.bars_per_second:,.0f} bars/s ({jts.bars_per_cpu_second:,.0f} per CPU s), "
            f"{jts.orders} orders filled; {jts.fills} fills, fingerprint {jts.fingerprint}"
        )
        if profile:
            profiled = min(written, PROFILE_BARS)
            short = Path(folder) / "profiled.parquet"
            write_bars(short, profiled)
            profiler = cProfile.Profile()
            asyncio.run(run_jts(short, profiled, profiler))
            console.print(profile_text(profiler), markup=False, highlight=False)
            rows = breakdown(profiler, jts.bars, jts.cpu_seconds)
            console.print(render_breakdown(rows), markup=False, highlight=False)
        frame = read_frame(path, written if peer_bars is None else min(peer_bars, written))
    peers: list[EngineRun] = []
    for run in (run_backtesting_py, run_backtrader) if len(frame) else ():
        console.print(f"{run.__name__}: {len(frame):,} bars")
        peer = run(frame)
        console.print(
            f"  {peer.bars_per_second:,.0f} bars/s ({peer.bars_per_cpu_second:,.0f} per CPU s), "
            f"{peer.orders} orders filled"
        )
        peers.append(peer)
    return SpeedResult(bars, jts, peers, rows)


def render_speed(result: SpeedResult) -> str:
    jts = result.jts
    rows = [
        "| engine | bars | seconds | bars/s | bars per CPU s | JTS / engine (CPU) "
        "| orders filled |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in (jts, *result.peers):
        ratio = jts.bars_per_cpu_second / run.bars_per_cpu_second
        rows.append(
            f"| {run.engine} | {run.bars:,} | {run.seconds:.1f} | {run.bars_per_second:,.0f} | "
            f"{run.bars_per_cpu_second:,.0f} | {ratio:.2f} | {run.orders:,} |"
        )
    return "\n".join(rows)


# -- memory: 1,800 symbols x 5 sessions ------------------------------------------------


def memory_codes(symbols: int) -> list[str]:
    return [f"KRX:{100_000 + n:06d}" for n in range(symbols)]


def memory_batches(
    codes: list[str], sessions: int, on_close: Any, seed: int = SEED
) -> Iterator[MarketDataBatch]:
    """``sessions`` KRX sessions of every code, one minute at a time (nothing held ahead).

    Each code walks on its own from 70,000 won in ticks of 100; ``on_close(n)`` runs
    after the last minute of session ``n`` has been handed over and replayed.
    """
    calendar = calendar_for_venue("KRX")
    days = calendar.sessions(krx_tax_schedule_start(), calendar.last_session)[:sessions]
    rng = np.random.default_rng(seed)
    ticks = np.full(len(codes), 200)
    width = SPAN // TICK
    prices: dict[int, Decimal] = {}
    volume = Decimal(100_000)

    def price(tick: int) -> Decimal:
        folded = tick % (2 * width)
        level = LOW + TICK * int(folded if folded < width else 2 * width - folded)
        found = prices.get(level)
        if found is None:
            found = prices[level] = Decimal(level)
        return found

    for number, day in enumerate(days, start=1):
        opened, closed = calendar.session_bounds(day)
        for ts in range(opened, closed, NANOS_PER_MINUTE):
            steps = rng.integers(-1, 2, size=len(codes))
            bars = []
            for code, before, step in zip(codes, ticks.tolist(), steps.tolist(), strict=True):
                o, c = price(before), price(before + step)
                bars.append(Bar(code, Timeframe.M1, ts, o, max(o, c), min(o, c), c, volume))
            ticks += steps
            yield MarketDataBatch(ts=ts + NANOS_PER_MINUTE, bars=tuple(bars))
        on_close(number)


def kernel_sizes(prepared: PreparedBacktest) -> dict[str, int]:
    """Lengths of what a long backtest could pile up, to tell a leak from a result."""
    kernel = prepared.kernel
    engine = prepared.execution.engine
    bus = kernel.bus
    tables = prepared.stores.orders._tables  # type: ignore[attr-defined]
    sizes = {
        "fills_stored": len(tables.fills),
        "orders_stored": len(tables.orders),
        "outbox_rows": len(tables.outbox),
        "positions": len(kernel.portfolio.positions),
        "engine_orders": len(engine._orders),
        "engine_book": sum(len(book) for book in engine._book.values()),
        "bus_dedupe": sum(len(g.seen) for groups in bus._groups.values() for g in groups),
    }
    return sizes


def memory_worker(symbols: int, sessions: int, trace: bool) -> None:
    """One long kernel backtest in this process; one JSON line per session close."""
    codes = memory_codes(symbols)
    asyncio.run(_memory_run(codes, sessions, trace))


async def _memory_run(codes: list[str], sessions: int, trace: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="jts-bench-mem-") as folder:
        path = Path(folder) / "instruments.parquet"
        # The file names the instruments; the minutes themselves are streamed below.
        first = session_minutes(krx_tax_schedule_start(), 1)[0]
        pq.write_table(
            pa.table(
                {
                    "timestamp": pa.array(
                        [first // NANOS_PER_MILLI] * len(codes), type=pa.timestamp("ms", tz="UTC")
                    ),
                    "symbol": pa.array(codes, type=pa.string()),
                    **{
                        name: pa.array(["70000"] * len(codes))
                        for name in ("open", "high", "low", "close")
                    },
                    "volume": pa.array(["100000"] * len(codes)),
                }
            ),
            path,
        )
        settings = bench_settings(Path(folder), execution={"order_type": "MARKET"})
        request = BacktestRequest(
            strategy="sma_cross",
            params={"fast": FAST, "slow": SLOW, "cross": "adjacent"},
            bars=BarInput("parquet", path),
            # Enough for 10,000,000 won in every symbol at once: orders keep flowing.
            cash=Decimal(10_000_000) * len(codes),
        )
        prepared = await prepare_backtest(settings, request)
        started = time.perf_counter()
        snapshots: list[tracemalloc.Snapshot] = []
        if trace:
            tracemalloc.start(1)

        def on_close(number: int) -> None:
            gc.collect()
            sample = {
                "session": number,
                "rss_mib": round(rss_mib(), 1),
                "python_blocks": sys.getallocatedblocks(),
                "seconds": round(time.perf_counter() - started, 1),
                "bars": prepared.kernel.collector.stats.bars,
                **kernel_sizes(prepared),
            }
            print(json.dumps(sample), flush=True)
            if trace:
                snapshots.append(tracemalloc.take_snapshot().filter_traces(_NOT_TRACEMALLOC))

        prepared.data.batches = memory_batches(codes, sessions, on_close)
        baseline = {
            "session": 0,
            "rss_mib": round(rss_mib(), 1),
            "python_blocks": sys.getallocatedblocks(),
        }
        print(json.dumps(baseline), flush=True)
        result = await prepared.run()
        print(
            json.dumps({"done": True, "fills": len(result.fills), "steps": result.steps}),
            flush=True,
        )
        if len(snapshots) >= 2:
            for line in top_growth(snapshots[0], snapshots[-1]):
                print(json.dumps({"trace": line}), flush=True)


_NOT_TRACEMALLOC = (tracemalloc.Filter(False, tracemalloc.__file__),)


def top_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot) -> list[str]:
    stats = last.compare_to(first, "lineno")
    lines = [f"{sum(stat.size_diff for stat in stats) / 1024:+,.0f} KiB traced in all"]
    for stat in stats[:15]:
        frame = stat.traceback[0]
        lines.append(
            f"{stat.size_diff / 1024:+,.0f} KiB in {stat.count_diff:+,} blocks: "
            f"{frame.filename}:{frame.lineno}"
        )
    return lines


@dataclass(frozen=True, slots=True)
class MemoryResult:
    symbols: int
    sessions: int
    samples: list[dict[str, Any]]
    peak_rss_mib: float
    seconds: float
    fills: int
    trace: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_memory(
    console: Console, symbols: int, sessions: int, trace: bool = False
) -> MemoryResult:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--symbols",
        str(symbols),
        "--sessions",
        str(sessions),
    ]
    if trace:
        command.append("--tracemalloc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    samples: list[dict[str, Any]] = []
    trace_lines: list[str] = []
    fills = 0
    started = time.perf_counter()
    with console.status(f"{symbols:,} symbols x {sessions} sessions through the kernel backtest"):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            item = json.loads(line)
            if "trace" in item:
                trace_lines.append(item["trace"])
            elif "done" in item:
                fills = item["fills"]
            else:
                samples.append(item)
                console.print(f"  {item}", markup=False, highlight=False)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the memory worker failed ({status})")
    return MemoryResult(
        symbols, sessions, samples, usage.ru_maxrss / 1024, seconds, fills, trace_lines
    )


def render_memory(result: MemoryResult) -> str:
    rows = [
        f"{result.symbols:,} symbols x {result.sessions} sessions "
        f"({result.samples[-1].get('bars', 0):,} bars, {result.fills:,} fills) in "
        f"{result.seconds:.0f} s; peak RSS {result.peak_rss_mib:,.0f} MiB.",
        "",
        "| after | RSS MiB | change | Python blocks | fills stored | orders stored | "
        "engine orders | bus dedupe ids |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous: float | None = None
    for sample in result.samples:
        rss = sample["rss_mib"]
        change = "" if previous is None else f"{rss - previous:+,.1f}"
        label = "opening (baseline)" if sample["session"] == 0 else f"session {sample['session']}"
        rows.append(
            f"| {label} | {rss:,.1f} | {change} | {sample['python_blocks']:,} | "
            f"{sample.get('fills_stored', '')} | {sample.get('orders_stored', '')} | "
            f"{sample.get('engine_orders', '')} | {sample.get('bus_dedupe', '')} |"
        )
        previous = rss
    return "\n".join([*rows, "", *result.trace])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=BARS)
    parser.add_argument("--peer-bars", type=int, default=None, help="fewer bars for the peers")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BARS:,} bars")
    parser.add_argument("--profile", action="store_true", help="cProfile the JTS replay")
    parser.add_argument("--jts-only", action="store_true", help="skip the peers")
    parser.add_argument("--memory", action="store_true", help="the 1,800 x 5 memory run")
    parser.add_argument("--symbols", type=int, default=MEMORY_SYMBOLS)
    parser.add_argument("--sessions", type=int, default=MEMORY_SESSIONS)
    parser.add_argument("--tracemalloc", action="store_true", help="name what grew (slow)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    console = Console()
    if args.worker:
        memory_worker(args.symbols, args.sessions, args.tracemalloc)
        return
    if args.memory:
        memory = measure_memory(console, args.symbols, args.sessions, args.tracemalloc)
        console.print(render_memory(memory), markup=False, highlight=False)
        console.print(json.dumps(memory.as_dict(), indent=1), markup=False, highlight=False)
        return
    bars = QUICK_BARS if args.quick else args.bars
    peer_bars = 0 if args.jts_only else args.peer_bars
    result = measure_speed(console, bars, peer_bars, profile=args.profile)
    console.print(render_speed(result), markup=False, highlight=False)
    console.print(json.dumps(result.as_dict(), indent=1), markup=False, highlight=False)


if __name__ == "__main__":
    main()
