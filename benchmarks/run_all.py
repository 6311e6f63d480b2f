"""Run every benchmark and rewrite the results section of benchmarks/README.md.

``make bench`` runs this (about eight minutes on two cores). ``--quick`` runs tiny
versions of everything to check the benchmarks themselves and leaves the README alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from rich.console import Console

import bench_latency
import bench_memory
import bench_pipeline
from machine import machine_info
from machine import machine_markdown
from machine import python_loop_ms

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

QUICK_PIPELINE = (
    bench_pipeline.Variant("whole stack, lockstep", 10, 1),
    bench_pipeline.Variant("whole stack, lockstep off", 10, 1, lockstep=False),
)


def replace_results(readme: str, text: str) -> str:
    """``readme`` with everything between the result markers replaced by ``text``."""
    head, found, rest = readme.partition(BEGIN)
    if not found or END not in rest:
        raise SystemExit(f"{README}: the markers {BEGIN} and {END} are missing")
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{text}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs; README untouched")
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    info = machine_info()

    console.rule("throughput")
    variants = QUICK_PIPELINE if args.quick else bench_pipeline.VARIANTS
    pipeline = asyncio.run(bench_pipeline.measure_all(console, variants))

    console.rule("latency")
    symbols, sessions = (10, 1) if args.quick else (bench_latency.SYMBOLS, bench_latency.SESSIONS)
    latency = asyncio.run(bench_latency.measure(console, symbols, sessions))

    console.rule("memory")
    demo = bench_memory.measure_demo(console)
    symbols, sessions = (100, 2) if args.quick else (bench_memory.SYMBOLS, bench_memory.SESSIONS)
    long_run = bench_memory.measure_long_run(console, symbols, sessions)

    minutes = (time.perf_counter() - started) / 60
    info["calibration"] += f"; {python_loop_ms():,.0f} ms after the benchmarks"
    raw = {
        "machine": info,
        "pipeline": [r.as_dict() for r in pipeline],
        "latency": latency.as_dict(),
        "memory": {"demo": demo.as_dict(), "long_run": long_run.as_dict()},
    }
    text = "\n".join(
        [
            f"Measured by `make bench` ({minutes:.1f} minutes in all) on:",
            "",
            machine_markdown(info),
            "",
            "### Throughput",
            "",
            bench_pipeline.render(pipeline),
            "",
            "### Latency",
            "",
            bench_latency.render(latency),
            "",
            "### Memory",
            "",
            bench_memory.render(demo, long_run),
            "",
            "<details><summary>Raw results (JSON)</summary>",
            "",
            "```json",
            json.dumps(raw, indent=1),
            "```",
            "",
            "</details>",
        ]
    )
    console.rule("results")
    console.print(text, markup=False, highlight=False)
    if not args.quick:
        README.write_text(replace_results(README.read_text(), text))
        console.print(f"\nwritten to {README}")


if __name__ == "__main__":
    main()
