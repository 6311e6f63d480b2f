"""Rich renderings of run summaries, orders and import results."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich import box
from rich.console import Console
from rich.console import Group
from rich.console import RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table

from jts.app.equity import sparkline
from jts.app.summary import RunSummary
from jts.domain.enums import OrderStatus
from jts.domain.orders import Order
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt

# Wider than any table here gets; only bounds the measurement.
_UNBOUNDED = 10_000


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print at the renderable's natural width when the output is not a terminal.

    A terminal's width is a hard limit (rich shrinks columns to fit, cutting ids to
    ``KRX:0009…``); a log or a pipe has none, so there every column is kept whole.
    """
    if console.is_terminal:
        console.print(renderable)
        return
    options = console.options.update_width(_UNBOUNDED)
    needed = Measurement.get(console, options, renderable).maximum
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(renderable)
    finally:
        console.width = width


def money(value: Decimal | None, places: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def qty(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def render_summary(console: Console, summary: RunSummary, title: str = "JTS run summary") -> None:
    # A resumed run adds to what earlier runs stored: show which number is which.
    activity = Table(box=None, padding=(0, 2), pad_edge=False, show_edge=False)
    activity.add_column("", style="bold")
    activity.add_column("this run", justify="right")
    activity.add_column("in the store", justify="right")
    activity.add_row("market minutes", f"{summary.steps:,}", "")
    activity.add_row("bars", f"{summary.bars:,} ({summary.bars_stored:,} stored)", "")
    activity.add_row("quarantined", f"{summary.quarantined:,}", "")
    activity.add_row("signals", f"{summary.signals:,}", "")
    mine, stored = summary.orders_by_status, summary.stored_orders_by_status
    activity.add_row("orders", f"{sum(mine.values()):,}", f"{sum(stored.values()):,}")
    for status in OrderStatus:
        if mine.get(status) or stored.get(status):
            activity.add_row(
                f"  {status.value.lower()}",
                f"{mine.get(status, 0):,}",
                f"{stored.get(status, 0):,}",
            )
    activity.add_row("fills", f"{summary.fills:,}", f"{summary.stored_fills:,}")

    # Names make the table too wide for an 80-column terminal; ids alone still identify.
    with_names = console.width >= 110 or not console.is_terminal
    pnl = Table(
        title="P&L per symbol, all stored fills (KRW)",
        title_justify="left",
        expand=False,
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )
    columns = ("symbol", "name") if with_names else ("symbol",)
    for column in (*columns, "bought", "sold", "held", "realised", "unreal.", "costs", "net"):
        pnl.add_column(
            column, justify="left" if column in ("symbol", "name") else "right", no_wrap=True
        )
    for row in summary.symbols:
        net_style = "green" if row.net_pnl >= 0 else "red"
        names = (row.instrument_id, row.name) if with_names else (row.instrument_id,)
        pnl.add_row(
            *(escape(name) for name in names),
            qty(row.bought),
            qty(row.sold),
            qty(row.position),
            money(row.realised_pnl),
            money(row.unrealised_pnl),
            money(row.fees + row.taxes),
            f"[{net_style}]{money(row.net_pnl)}[/]",
        )

    books = summary.books
    verdict = "[green]balanced[/]" if books.balanced else "[red]DO NOT BALANCE[/]"
    account = Table.grid(padding=(0, 2))
    account.add_column(style="bold")
    account.add_column(justify="right")
    account.add_row("starting cash", money(summary.starting_cash))
    account.add_row("cash", money(summary.cash))
    account.add_row("equity", money(summary.equity))
    change = summary.equity - summary.starting_cash
    account.add_row("equity change", f"[{'green' if change >= 0 else 'red'}]{money(change)}[/]")
    account.add_row("max drawdown", f"{summary.max_drawdown:.2%}")
    account.add_row("equity curve", f"[cyan]{sparkline(list(summary.equity_curve), 48)}[/]")
    account.add_row("books", verdict)
    if not books.balanced:
        account.add_row("expected cash", money(books.expected_cash))
        account.add_row("venue cash", money(books.venue_cash))
        if books.position_mismatches:
            account.add_row("position mismatch", ", ".join(books.position_mismatches))
    for strategy_id, reason in summary.strategy_faults.items():
        account.add_row(f"[red]faulted {escape(strategy_id)}[/]", escape(reason))

    print_whole(console, Panel(Group(activity, "", pnl, "", account), title=title, expand=False))


def render_orders(console: Console, orders: Sequence[Order]) -> None:
    table = Table(title=f"{len(orders)} orders", title_justify="left")
    for column in ("created (KST)", "symbol", "side", "type", "qty", "price", "filled", "avg"):
        table.add_column(
            column, justify="right" if column in ("qty", "price", "filled", "avg") else "left"
        )
    table.add_column("status")
    table.add_column("client order id")
    table.add_column("reason")
    for order in orders:
        table.add_row(
            ns_to_dt(order.created_ts).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S"),
            escape(order.instrument_id),
            order.side.value,
            order.order_type.value,
            qty(order.quantity),
            money(order.price, 2 if order.price is not None and order.price % 1 else 0),
            qty(order.filled_quantity),
            money(order.avg_fill_price, 2),
            order.status.value,
            order.client_order_id,
            escape(order.reason or ""),
        )
    print_whole(console, table)
