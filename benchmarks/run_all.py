"""Run every benchmark and write the results into benchmarks/README.md (between markers)."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise
from pathlib import Path

import bench_latency
import bench_memory
import bench_pipeline
from harness import machine

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def table(rows: list[dict[str, object]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += [
        "| "
        + " | ".join(f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k in keys)
        + " |"
        for row in rows
    ]
    return "\n".join(lines)


def main() -> None:
    pipeline = asyncio.run(bench_pipeline.main())
    latency = asyncio.run(bench_latency.measure())
    demo = bench_memory.demo_peak_rss()
    wide = bench_memory.long_run_in_subprocess(1800, 3)
    per_session = wide["per_session"]
    assert isinstance(per_session, list)
    growth = [round(b["rss_mib"] - a["rss_mib"], 1) for a, b in pairwise(per_session)]
    text = "\n\n".join(
        [
            f"Measured on {machine()}.",
            "### Throughput (lockstep, whole stack)\n\n" + table(pipeline),
            "### Latency (in-process, SQLite with fsync on every commit)\n\n"
            + table([{"path": k, **v} for k, v in latency.items()]),
            "### Memory\n\n"
            + table([{"run": "jts demo (5 symbols, 3 sessions)", **demo}])
            + "\n\n"
            + table(
                [
                    {"run": f"1,800 symbols, after {r['after_session']}", "rss_mib": r["rss_mib"]}
                    for r in per_session
                ]
            )
            + f"\n\nRSS after opening the platform, before any data: "
            f"{wide['rss_after_open_mib']} MiB; peak {wide['peak_rss_mib']} MiB; "
            f"growth between sessions: {growth} MiB; {wide['bars']:,} bars, "
            f"{wide['orders']:,} orders, {wide['fills']:,} fills in {wide['seconds']} s "
            f"({round(int(wide['bars']) / float(wide['seconds'])):,} bars/s).",
            "Raw:\n\n```json\n"
            + json.dumps(
                {"pipeline": pipeline, "latency": latency, "demo": demo, "wide": wide}, indent=1
            )
            + "\n```",
        ]
    )
    current = README.read_text()
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(text)


if __name__ == "__main__":
    main()
