"""Shared pieces of the benchmarks: a platform on a throwaway data directory, RSS readings."""

from __future__ import annotations

import os
import platform as host
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path

from jts.app.platform import Platform
from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.sim.universe import synthetic_krx_instruments


@asynccontextmanager
async def temporary_platform(
    symbols: int, sessions: int, seed: int = 3, *, fast: int = 5, slow: int = 20
) -> AsyncIterator[Platform]:
    """An embedded platform over ``symbols`` synthetic KRX stocks, deleted afterwards.

    ``fast``/``slow`` are the SMA crossover's windows: long windows trade rarely, which
    isolates the market-data path from the order path.
    """
    with tempfile.TemporaryDirectory(prefix="jts-bench-") as folder:
        settings = load_settings(
            data_dir=Path(folder),
            database_url=None,
            feed={"sessions": sessions, "seed": seed},
            strategy={"params": {"fast": fast, "slow": slow}},
        )
        instruments = synthetic_krx_instruments(symbols) if symbols else None
        platform = await open_platform(settings, instruments=instruments)
        try:
            yield platform
        finally:
            await platform.close()


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {host.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
