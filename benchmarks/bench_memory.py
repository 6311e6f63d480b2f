"""Peak memory of ``jts demo``, and whether memory stays flat as a 1,800-symbol run goes on.

Each measurement runs in a subprocess of its own so one cannot inflate another:
the demo through the real ``jts`` command (peak RSS from ``wait4``), the long run
through ``python bench_memory.py --universe N --sessions K``, which prints its RSS
after opening the platform (chDB's engine alone is a few hundred MiB) and after
every session.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import rss_mib
from harness import temporary_platform
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import ns_to_dt

ROOT = Path(__file__).resolve().parents[1]


def demo_peak_rss() -> dict[str, float]:
    """Run ``jts demo`` as a newcomer does and read its peak RSS from the kernel."""
    jts = Path(sys.executable).parent / "jts"
    with tempfile.TemporaryDirectory(prefix="jts-bench-demo-") as folder:
        env = {**os.environ, "JTS_DATA_DIR": folder, "COLUMNS": "100"}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(jts), "demo"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"jts demo failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return {"peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "seconds": round(elapsed, 1)}


async def long_run(universe: int, sessions: int) -> dict[str, object]:
    """RSS after opening and after each session of a run over ``universe`` symbols."""
    readings: list[dict[str, object]] = []
    state = {"session": None}
    async with temporary_platform(universe, sessions, fast=30, slow=120) as platform:
        opened = rss_mib()
        started = time.perf_counter()

        def on_step(batch: MarketDataBatch) -> None:
            day = ns_to_dt(batch.ts).date()
            if state["session"] is not None and day != state["session"]:
                readings.append({"after_session": str(state["session"]), "rss_mib": rss_mib()})
            state["session"] = day

        await platform.run(on_step=on_step)
        readings.append({"after_session": str(state["session"]), "rss_mib": rss_mib()})
        kernel = platform.kernel
        return {
            "universe": universe,
            "sessions": sessions,
            "rss_after_open_mib": round(opened, 1),
            "per_session": [{**r, "rss_mib": round(float(r["rss_mib"]), 1)} for r in readings],
            "peak_rss_mib": round(rss_mib("VmHWM"), 1),
            "bars": kernel.collector.stats.bars,
            "orders": kernel.execution.stats.orders,
            "fills": kernel.execution.stats.fills,
            "seconds": round(time.perf_counter() - started, 1),
        }


def long_run_in_subprocess(universe: int, sessions: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--universe", str(universe), "--sessions", str(sessions)],
        cwd=Path(__file__).parent,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


if __name__ == "__main__":
    if "--universe" in sys.argv:
        universe = int(sys.argv[sys.argv.index("--universe") + 1])
        sessions = int(sys.argv[sys.argv.index("--sessions") + 1])
        print(json.dumps(asyncio.run(long_run(universe, sessions))))
    else:
        print(json.dumps({"demo": demo_peak_rss()}, indent=2))
        print(json.dumps(long_run_in_subprocess(1800, 3), indent=2))
