"""``jts brokers``: the KIS account pool as the running processes see it."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jts.app.settings import Settings
from jts.brokers.common.breaker import BreakerState
from jts.brokers.kis.pool import AccountStatus
from jts.brokers.kis.pool import KisAccountPool
from jts.cli.render import print_whole

# A breaker's "closed" reads as "down" to a user: show what each state means for the account.
_HEALTH = {
    BreakerState.CLOSED: ("healthy", "green"),
    BreakerState.HALF_OPEN: ("probing", "yellow"),
    BreakerState.OPEN: ("failing (open)", "red"),
}


def health_label(state: BreakerState) -> str:
    """The account's health in words, as rich markup."""
    words, style = _HEALTH[state]
    return f"[{style}]{words}[/]"


def render_pool(rows: list[AccountStatus], universe: int, unassigned: int) -> Table:
    table = Table(
        title=f"KIS account pool: {universe:,} symbols"
        + (f", {unassigned:,} not covered" if unassigned else ""),
        title_justify="left",
    )
    for column in (
        "account",
        "env",
        "focus",
        "symbols",
        "streamed",
        "polled",
        "health",
        "budget now",
        "last error",
    ):
        table.add_column(
            column, justify="right" if column in ("symbols", "streamed", "polled") else "left"
        )
    for row in rows:
        table.add_row(
            escape(row.name),
            row.environment,
            escape(row.focus),
            f"{row.symbols:,}/{row.capacity:,}",
            f"{row.streamed:,}",
            f"{row.polled:,}",
            health_label(row.state),
            row.budget.describe(),
            escape(row.last_error or ""),
        )
    return table


def show_pool(settings: Settings, console: Console, *, check: bool) -> None:
    pool = KisAccountPool(settings.kis, state_dir=settings.data_dir / "brokers")
    try:
        if check:
            # Issues (or reuses) each account's token: proves the credentials work.
            asyncio.run(_connect(pool))
        rows = pool.status(from_board=not check)
        covered = sum(r.symbols for r in rows)
        table = render_pool(rows, len(pool.universe), max(0, len(pool.universe) - covered))
        print_whole(console, table)
    finally:
        pool.windows.close()
        pool.board.close()


async def _connect(pool: KisAccountPool) -> None:
    try:
        await asyncio.gather(*(s.rest.connect() for s in pool.sessions.values()))
    finally:
        for session in pool.sessions.values():
            await session.rest.close()
