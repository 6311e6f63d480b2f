"""The machine and software a benchmark ran on: numbers mean little without it."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from datetime import UTC
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpuinfo_field(name: str) -> str | None:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith(name):
            return line.split(":", 1)[1].strip()
    return None


def _memory_gib() -> float | None:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return None


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def python_loop_ms(iterations: int = 10_000_000) -> float:
    """A pure-Python calibration loop: on a shared VM the same code runs slower when the
    host is busy, so runs made at different times compare through this number."""
    started = time.perf_counter()
    total = 0
    for i in range(iterations):
        total += i
    return (time.perf_counter() - started) * 1000


def machine_info() -> dict[str, str]:
    """CPU model, cores, memory, Python, key libraries, commit and date, as display strings."""
    memory = _memory_gib()
    usable = len(os.sched_getaffinity(0))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpuinfo_field("model name") or platform.processor() or "unknown",
        "cores": f"{os.cpu_count()} logical, {usable} usable",
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": (
            f"chdb {version('chdb')}, SQLite {sqlite3.sqlite_version}, "
            f"SQLAlchemy {version('sqlalchemy')}, pydantic {version('pydantic')}"
        ),
        "commit": _commit(),
        "calibration": f"{python_loop_ms():,.0f} ms for a 10M-step Python loop (lower is faster)",
    }


def machine_markdown(info: dict[str, str] | None = None) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in (info or machine_info()).items())


if __name__ == "__main__":
    print(machine_markdown())
