"""Peak memory of ``jts demo``, and whether memory stays flat as a 1,800-symbol run goes on.

Every measurement runs in a process of its own, so one cannot inflate another, and the
peak comes from the kernel (``wait4``'s ``ru_maxrss``):

- ``jts demo`` exactly as a newcomer runs it (the real command, a fresh data directory);
- a worker (this file with ``--worker``) that opens the platform over N synthetic KRX
  stocks and runs K sessions in lockstep, reading ``/proc/self/status`` VmRSS after the
  imports, after opening the platform (chDB's engine alone is a few hundred MiB) and at
  the close of every session, with Python's allocated block count beside it, so growth
  in Python objects can be told from growth inside chDB or SQLite. ``--tracemalloc``
  also names the source lines whose allocations grew between the first and last session
  (several times slower, and its own bookkeeping inflates RSS: for investigating,
  not for the results table).

Run alone: ``.venv/bin/python benchmarks/bench_memory.py [--symbols 1800 --sessions 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.progress import TimeRemainingColumn

from harness import rss_mib
from harness import temporary_platform
from jts.app.platform import Platform
from jts.domain.reports import MarketDataBatch

SYMBOLS = 1_800
SESSIONS = 2
TRACE_EVERY_MINUTES = 30


# -- the demo ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoMemory:
    peak_rss_mib: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"peak_rss_mib": round(self.peak_rss_mib, 1), "seconds": round(self.seconds, 1)}


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without JTS settings, so a stray variable cannot skew a run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    return {**env, "COLUMNS": "100", **extra}


def _wait(proc: subprocess.Popen[Any]) -> tuple[int, float]:
    """Reap ``proc`` with wait4: its exit code and peak RSS in MiB (ru_maxrss is KiB)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def measure_demo(console: Console) -> DemoMemory:
    """Run ``jts demo`` (three sessions, five stocks) as a newcomer does; its peak RSS."""
    jts = Path(sys.executable).with_name("jts")
    with tempfile.TemporaryDirectory(prefix="jts-bench-demo-") as folder:
        env = _clean_env(JTS_DATA_DIR=folder)
        with console.status("jts demo (3 sessions x 5 stocks) in a subprocess"):
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(jts), "demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            code, peak = _wait(proc)
            seconds = time.perf_counter() - started
        errors = proc.stderr.read().decode() if proc.stderr else ""
    if code != 0:
        raise RuntimeError(f"jts demo exited with {code}: {errors}")
    return DemoMemory(peak, seconds)


# -- the worker: one long run, sampled ---------------------------------------------------


def _emit(kind: str, **payload: Any) -> None:
    print(json.dumps({"kind": kind, **payload}), flush=True)


def _sample(kind: str, label: str, platform: Platform | None, started: float) -> dict[str, Any]:
    sample: dict[str, Any] = {
        "kind": kind,
        "after": label,
        "rss_mib": round(rss_mib(), 1),
        "peak_mib": round(rss_mib("VmHWM"), 1),
        "python_blocks": sys.getallocatedblocks(),
        "gc_objects": len(gc.get_objects()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if platform is not None:
        kernel = platform.kernel
        sample |= {
            "bars": kernel.collector.stats.bars,
            "orders": kernel.execution.stats.orders,
            "fills": kernel.execution.stats.fills,
        }
    return sample


_NOT_TRACEMALLOC = (tracemalloc.Filter(False, tracemalloc.__file__),)


def _top_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot) -> list[str]:
    stats = last.compare_to(first, "lineno")
    total = sum(stat.size_diff for stat in stats) / 1024
    lines = [f"{total:+,.0f} KiB in all traced Python allocations; the largest lines:"]
    for stat in stats[:20]:
        frame = stat.traceback[0]
        lines.append(
            f"{stat.size_diff / 1024:+,.0f} KiB in {stat.count_diff:+,} blocks: "
            f"{frame.filename}:{frame.lineno}"
        )
    return lines


async def _worker(
    symbols: int, sessions: int, trace: bool, sma: tuple[int, int] | None
) -> dict[str, Any]:
    started = time.perf_counter()
    samples = [_sample("start", "imports", None, started)]
    sections = {"strategy": {"params": {"fast": sma[0], "slow": sma[1]}}} if sma else {}
    async with temporary_platform(symbols, sessions, **sections) as opened:
        platform = opened.platform
        opened_label = "platform opened (chDB, SQLite, calendar): baseline"
        samples.append(_sample("open", opened_label, platform, started))
        feed = platform.source.feed
        assert feed is not None
        closes = {platform.calendar.session_bounds(day)[1]: day for day in feed.session_dates}
        total = platform.source.planned_minutes
        trace_points: list[tuple[int, float]] = []
        snapshots: list[tracemalloc.Snapshot] = []
        if trace:
            tracemalloc.start(1)

        def on_step(batch: MarketDataBatch) -> None:
            if platform.steps % 5 == 0:
                _emit("progress", steps=platform.steps, total=total)
            if platform.steps % TRACE_EVERY_MINUTES == 0:
                trace_points.append((platform.steps, round(rss_mib(), 1)))
            day = closes.get(batch.ts)
            if day is not None:
                label = f"session {len(samples) - 1} ({day})"
                samples.append(_sample("session", label, platform, started))
                if trace:
                    # Keep the first and the latest only: snapshots are large themselves.
                    del snapshots[1:]
                    snapshots.append(tracemalloc.take_snapshot().filter_traces(_NOT_TRACEMALLOC))

        run_started = time.perf_counter()
        await platform.run(on_step=on_step)
        run_seconds = time.perf_counter() - run_started
        samples.append(_sample("end", "run stopped (last bars flushed)", platform, started))
    samples.append(_sample("end", "platform closed (chDB, SQLite)", platform, started))
    result: dict[str, Any] = {
        "symbols": symbols,
        "strategy": f"SMA {sma[0]}/{sma[1]}" if sma else "default (SMA 5/20)",
        "sessions": sessions,
        "run_seconds": round(run_seconds, 1),
        "samples": samples,
        "rss_trace": trace_points,
        "vm_hwm_after_close_mib": round(rss_mib("VmHWM"), 1),
    }
    if len(snapshots) >= 2:
        result["tracemalloc_growth"] = _top_growth(snapshots[0], snapshots[-1])
    return result


# -- the parent: run the worker, follow its progress -------------------------------------


@dataclass(frozen=True, slots=True)
class LongRun:
    data: dict[str, Any]
    peak_rss_mib: float

    @property
    def samples(self) -> list[dict[str, Any]]:
        samples: list[dict[str, Any]] = self.data["samples"]
        return samples

    @property
    def session_samples(self) -> list[dict[str, Any]]:
        return [s for s in self.samples if s["kind"] == "session"]

    @property
    def baseline_mib(self) -> float:
        """RSS with the platform open and no data yet: the floor chDB and the imports set."""
        return float(next(s for s in self.samples if s["kind"] == "open")["rss_mib"])

    @property
    def growth_per_session_mib(self) -> list[float]:
        values = [float(s["rss_mib"]) for s in self.session_samples]
        return [round(b - a, 1) for a, b in pairwise(values)]

    def as_dict(self) -> dict[str, Any]:
        """The worker's figures and the kernel's peak; the RSS trace is in the rendered text."""
        data = {k: v for k, v in self.data.items() if k != "rss_trace"}
        return {**data, "peak_rss_mib": round(self.peak_rss_mib, 1)}


def measure_long_run(
    console: Console,
    symbols: int = SYMBOLS,
    sessions: int = SESSIONS,
    trace: bool = False,
    sma: tuple[int, int] | None = None,
) -> LongRun:
    command = [sys.executable, __file__, "--worker", f"--symbols={symbols}"]
    command += [f"--sessions={sessions}"] + (["--tracemalloc"] if trace else [])
    command += [f"--sma={sma[0]},{sma[1]}"] if sma else []
    columns = (
        TextColumn(f"[bold blue]memory, {symbols:,} symbols x {sessions} session(s)"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("market minutes"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    result: dict[str, Any] | None = None
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("memory", total=None)
        proc = subprocess.Popen(command, env=_clean_env(), stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if message["kind"] == "progress":
                progress.update(task, completed=message["steps"], total=message["total"])
            elif message["kind"] == "result":
                result = message["result"]
        code, peak = _wait(proc)
    if code != 0 or result is None:
        raise RuntimeError(f"memory worker exited with {code}")
    return LongRun(result, peak)


# -- report -------------------------------------------------------------------------------


def render(demo: DemoMemory, run: LongRun) -> str:
    lines = [
        f"`jts demo` (5 stocks, 3 sessions, as `make demo` runs it): peak RSS "
        f"**{demo.peak_rss_mib:,.0f} MiB**, {demo.seconds:.1f} s wall clock.",
        "",
        f"{run.data['symbols']:,} synthetic KRX stocks x {run.data['sessions']} session(s), "
        f"lockstep, strategy {run.data['strategy']}, otherwise default settings, one "
        f"subprocess (run {run.data['run_seconds']:,.0f} s):",
        "",
        "| after | RSS MiB | change MiB | peak so far MiB | Python blocks | gc objects "
        "| bars | orders | fills |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous: float | None = None
    for s in run.samples:
        change = "" if previous is None else f"{s['rss_mib'] - previous:+,.1f}"
        previous = s["rss_mib"]
        lines.append(
            f"| {s['after']} | {s['rss_mib']:,.1f} | {change} | {s['peak_mib']:,.1f} "
            f"| {s['python_blocks']:,} "
            f"| {s['gc_objects']:,} | {s.get('bars', 0):,} | {s.get('orders', 0):,} "
            f"| {s.get('fills', 0):,} |"
        )
    sessions = run.session_samples
    jts_part = float(sessions[-1]["rss_mib"]) - run.baseline_mib if sessions else 0.0
    trace = ", ".join(f"{mib:.0f}" for _, mib in run.data["rss_trace"])
    lines += [
        "",
        f"Baseline with the platform open and no data: {run.baseline_mib:,.0f} MiB "
        f"(of which {float(run.samples[0]['rss_mib']):,.0f} MiB is the interpreter and "
        f"imports). Added by the run on top of it: {jts_part:+,.0f} MiB; growth from one "
        f"session's close to the next: {run.growth_per_session_mib} MiB. Peak RSS (wait4): "
        f"{run.peak_rss_mib:,.0f} MiB.",
        "",
        f"RSS every {TRACE_EVERY_MINUTES} market minutes (MiB): {trace}.",
    ]
    growth = run.data.get("tracemalloc_growth")
    if growth:
        lines += ["", "Largest Python allocation growth, first to last session close:", ""]
        lines += [f"- {entry}" for entry in growth]
    return "\n".join(lines)


def _sma(text: str) -> tuple[int, int]:
    fast, slow = (int(part) for part in text.split(","))
    return fast, slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=SYMBOLS)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--tracemalloc", action="store_true", help="name what grows (slow)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument(
        "--sma",
        type=_sma,
        help="FAST,SLOW windows instead of the default 5,20 (60,300 hardly trades: data path)",
    )
    args = parser.parse_args()
    if args.worker:
        result = asyncio.run(_worker(args.symbols, args.sessions, args.tracemalloc, args.sma))
        _emit("result", result=result)
        return
    console = Console()
    demo = DemoMemory(float("nan"), float("nan")) if args.skip_demo else measure_demo(console)
    run = measure_long_run(console, args.symbols, args.sessions, args.tracemalloc, args.sma)
    console.print(render(demo, run), markup=False, highlight=False)


if __name__ == "__main__":
    main()
