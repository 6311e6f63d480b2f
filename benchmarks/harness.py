"""What every benchmark shares: a platform in a throw-away directory, driven with a progress bar.

Settings are the defaults plus the benchmark's own overrides, never a ``jts.toml`` or
``JTS_*`` variables that happen to be around, so a result always means the same setup.
chDB runs one data directory per process at a time: ``temporary_platform`` closes the
platform before its directory goes, so the next benchmark can open another.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.progress import TimeRemainingColumn

from jts.app.platform import Platform
from jts.app.platform import open_platform
from jts.app.settings import BusSettings
from jts.app.settings import ExecutionSettings
from jts.app.settings import FeedSettings
from jts.app.settings import PaperSettings
from jts.app.settings import Settings
from jts.app.settings import StrategySettings
from jts.domain.reports import MarketDataBatch
from jts.sim.universe import synthetic_krx_instruments

StepHook = Callable[[MarketDataBatch], None]


def bench_settings(data_dir: Path, **sections: dict[str, Any]) -> Settings:
    """Every section at its default (so the environment cannot leak in), updated by ``sections``."""
    values: dict[str, dict[str, Any]] = {
        "bus": BusSettings().model_dump(),
        "paper": PaperSettings().model_dump(),
        "feed": FeedSettings().model_dump(),
        "strategy": StrategySettings().model_dump(),
        "execution": ExecutionSettings().model_dump(),
    }
    for name, overrides in sections.items():
        values[name] = {**values[name], **overrides}
    return Settings(
        data_dir=data_dir,
        database_url=None,
        clickhouse_url=None,
        log_level="WARNING",
        **values,
    )


@dataclass(slots=True)
class Opened:
    platform: Platform
    open_seconds: float


@asynccontextmanager
async def temporary_platform(
    symbols: int, sessions: int, **sections: dict[str, Any]
) -> AsyncIterator[Opened]:
    """A platform over ``symbols`` synthetic KRX stocks in a fresh directory, closed on exit."""
    with tempfile.TemporaryDirectory(prefix="jts-bench-") as folder:
        settings = bench_settings(Path(folder), **sections)
        started = time.perf_counter()
        platform = await open_platform(
            settings, instruments=synthetic_krx_instruments(symbols), sessions=sessions
        )
        opened = time.perf_counter() - started
        try:
            yield Opened(platform, opened)
        finally:
            await platform.close()


async def run_with_progress(
    platform: Platform,
    console: Console,
    label: str,
    *,
    lockstep: bool = True,
    on_step: StepHook | None = None,
) -> float:
    """Run the feed to its end under a progress bar; returns the run's wall-clock seconds."""
    columns = (
        TextColumn(f"[bold blue]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("market minutes"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=platform.source.planned_minutes)

        def step(batch: MarketDataBatch) -> None:
            progress.advance(task)
            if on_step is not None:
                on_step(batch)

        started = time.perf_counter()
        await platform.run(lockstep=lockstep, on_step=step)
        return time.perf_counter() - started


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")
