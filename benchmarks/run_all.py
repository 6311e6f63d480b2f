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
from typing import Any

from rich.console import Console

import bench_brokers
import bench_kafka_clients
import bench_kafka_latency
import bench_latency
import bench_memory
import bench_pipeline
from machine import machine_info
from machine import machine_markdown
from machine import python_loop_ms

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
KAFKA_BEGIN, KAFKA_END = "<!-- kafka:begin -->", "<!-- kafka:end -->"
BROKERS_BEGIN, BROKERS_END = "<!-- brokers:begin -->", "<!-- brokers:end -->"

QUICK_PIPELINE = (
    bench_pipeline.Variant("whole stack, lockstep", 10, 1),
    bench_pipeline.Variant("whole stack, lockstep off", 10, 1, lockstep=False),
)


def replace_results(readme: str, text: str, begin: str = BEGIN, end: str = END) -> str:
    """``readme`` with everything between the ``begin`` and ``end`` markers replaced by ``text``."""
    head, found, rest = readme.partition(begin)
    if not found or end not in rest:
        raise SystemExit(f"{README}: the markers {begin} and {end} are missing")
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{text}\n{end}{tail}"


def raw_details(raw: dict[str, Any]) -> list[str]:
    """The measurements as JSON, folded away under the tables."""
    return [
        "<details><summary>Raw results (JSON)</summary>",
        "",
        "```json",
        json.dumps(raw, indent=1),
        "```",
        "",
        "</details>",
    ]


def kafka_results(console: Console, quick: bool) -> str:
    """The Kafka section: the two clients side by side, then the order path across processes."""
    console.rule("Kafka clients")
    events, trips = (
        (5_000, 200) if quick else (bench_kafka_clients.EVENTS, bench_kafka_clients.ROUND_TRIPS)
    )
    clients = bench_kafka_clients.measure(console, events, trips)
    console.rule("latency over Kafka")
    symbols = 10 if quick else bench_kafka_latency.SYMBOLS
    latency = bench_kafka_latency.measure(console, symbols, bench_kafka_latency.SPEED)
    raw = {"machine": machine_info(), "clients": clients, "latency": latency}
    return "\n".join(
        [
            f"Measured by `make bench` on {raw['machine']['date']} "
            f"(commit {raw['machine']['commit']}),",
            "against the local Kafka 4.4 and PostgreSQL of `scripts/`.",
            "",
            "#### Kafka clients",
            "",
            bench_kafka_clients.render(clients),
            "",
            "#### Order path over Kafka, five processes",
            "",
            bench_kafka_latency.render(latency),
            "",
            *raw_details(raw),
        ]
    )


def broker_results(console: Console, quick: bool) -> str:
    """The brokers section: budget costs, a budget shared by processes, a KIS round trip."""
    console.rule("broker machinery")
    result = bench_brokers.measure(console, quick)
    raw = {"machine": machine_info(), "brokers": result}
    return "\n".join(
        [
            f"Measured by `make bench` on {raw['machine']['date']} "
            f"(commit {raw['machine']['commit']}).",
            "",
            bench_brokers.render(result),
            "",
            *raw_details(raw),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs; README untouched")
    parser.add_argument("--kafka-only", action="store_true", help="only the Kafka section")
    parser.add_argument("--brokers-only", action="store_true", help="only the brokers section")
    args = parser.parse_args()
    console = Console()
    brokers = broker_results(console, args.quick)
    if not args.quick:
        README.write_text(replace_results(README.read_text(), brokers, BROKERS_BEGIN, BROKERS_END))
    if args.brokers_only:
        console.print(brokers, markup=False, highlight=False)
        return
    kafka = kafka_results(console, args.quick)
    if not args.quick:
        README.write_text(replace_results(README.read_text(), kafka, KAFKA_BEGIN, KAFKA_END))
    if args.kafka_only:
        console.print(kafka, markup=False, highlight=False)
        return
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
            *raw_details(raw),
        ]
    )
    console.rule("results")
    console.print(text, markup=False, highlight=False)
    if not args.quick:
        README.write_text(replace_results(README.read_text(), text))
        console.print(f"\nwritten to {README}")


if __name__ == "__main__":
    main()
