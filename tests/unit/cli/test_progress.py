"""Progress in a log or a pipe: whole lines, one per market session and every interval."""

from __future__ import annotations

import io
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from rich.console import Console

from jts.cli.progress import Counts
from jts.cli.progress import PlainProgress
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import dt_to_ns

KST = ZoneInfo("Asia/Seoul")


def _session(day: int, minutes: int) -> list[MarketDataBatch]:
    start = datetime(2026, 11, day, 9, 1, tzinfo=KST)
    return [MarketDataBatch(ts=dt_to_ns(start + timedelta(minutes=i))) for i in range(minutes)]


def test_a_pipe_gets_one_whole_line_per_session_never_cut_to_the_width() -> None:
    out = io.StringIO()
    console = Console(file=out, width=40)  # narrow, and not a terminal
    assert not console.is_terminal
    clock = [0.0]
    steps = [0]

    def counts() -> Counts:
        return Counts(bars=steps[0] * 5, signals=7, orders=1_234_567, fills=2_345_678)

    progress = PlainProgress(console, total=780, counts=counts, interval=60.0, now=lambda: clock[0])
    for batch in _session(2, 390) + _session(3, 390):
        steps[0] += 1
        clock[0] += 0.01
        progress.on_step(batch)
    progress.finish()

    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("2026-11-02 15:30 KST  minutes 390/780  bars 1,950")
    assert lines[1].startswith("2026-11-03 15:30 KST  minutes 780/780  bars 3,900")
    assert lines[0].endswith("orders 1,234,567  fills 2,345,678  elapsed 0:00:03")
    assert lines[1].endswith("orders 1,234,567  fills 2,345,678  elapsed 0:00:07")


def test_a_slow_session_also_reports_every_interval() -> None:
    out = io.StringIO()
    clock = [0.0]
    progress = PlainProgress(
        Console(file=out, width=80),
        total=None,
        counts=lambda: Counts(0, 0, 0, 0),
        interval=30.0,
        now=lambda: clock[0],
    )
    for batch in _session(2, 60):
        clock[0] += 1.0  # a market minute per second: a line every 30 of them
        progress.on_step(batch)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("  ")[1] for line in lines] == ["minutes 30", "minutes 60"]
