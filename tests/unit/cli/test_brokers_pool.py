"""``jts brokers pool`` names each account's health in words a user reads right."""

from __future__ import annotations

import io

from rich.console import Console

from jts.brokers.common.breaker import BreakerState
from jts.brokers.common.ratelimit import BudgetUsage
from jts.brokers.common.ratelimit import RateLimit
from jts.brokers.kis.pool import AccountStatus
from jts.cli.brokers import render_pool


def _row(name: str, state: BreakerState) -> AccountStatus:
    return AccountStatus(
        name=name,
        environment="real",
        focus="",
        state=state,
        symbols=1,
        capacity=40,
        streamed=1,
        polled=0,
        budget=BudgetUsage(key=name, limits=(RateLimit(20, 1.0),), used=(0,), paused_for=0.0),
        last_error=None,
    )


def test_breaker_states_read_as_healthy_failing_and_probing() -> None:
    rows = [
        _row("good", BreakerState.CLOSED),
        _row("down", BreakerState.OPEN),
        _row("trial", BreakerState.HALF_OPEN),
    ]
    out = io.StringIO()
    Console(file=out, width=200).print(render_pool(rows, universe=3, unassigned=0))
    lines = {line.split()[1]: line for line in out.getvalue().splitlines() if "real" in line}
    assert "healthy" in lines["good"] and "closed" not in lines["good"]
    assert "failing (open)" in lines["down"]
    assert "probing" in lines["trial"] and "half-open" not in lines["trial"]
