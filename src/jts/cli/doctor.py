"""``jts doctor``: show what is inconsistent in the data folder and, when asked, mend it."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jts.app.doctor import Finding
from jts.app.doctor import Severity
from jts.app.doctor import examine
from jts.app.doctor import has_problems
from jts.app.settings import Settings
from jts.cli.render import print_whole

_STYLE = {Severity.OK: "green", Severity.NOTE: "yellow", Severity.PROBLEM: "bold red"}


def render_findings(console: Console, findings: list[Finding]) -> None:
    table = Table(title="jts doctor", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("finding")
    table.add_column("repair offered")
    for finding in findings:
        style = _STYLE[finding.severity]
        table.add_row(
            finding.check,
            f"[{style}]{finding.severity.value}[/]",
            escape(finding.message),
            escape(finding.repair.description) if finding.repair else "",
        )
    print_whole(console, table)


async def run_doctor(
    settings: Settings,
    console: Console,
    *,
    repair: bool,
    confirm: Callable[[str], bool],
) -> bool:
    """Print the findings; with ``repair``, apply each offered repair the person confirms.

    Returns True when no problem is left. ``confirm`` asks yes/no for one repair.
    """
    findings = await examine(settings)
    render_findings(console, findings)
    offered = [f for f in findings if f.repair is not None and f.severity is Severity.PROBLEM]
    if not has_problems(findings):
        console.print("[green]the data folder is consistent[/]")
        return True
    if not repair:
        if offered:
            console.print("run [bold]jts doctor --repair[/] to apply the repairs offered above")
        return False
    done: set[int] = set()
    for finding in offered:
        assert finding.repair is not None
        # One repair may answer several findings (archiving covers every ledger problem).
        if id(finding.repair.apply) in done:
            continue
        if not confirm(f"{finding.check}: {finding.repair.description}?"):
            console.print(f"skipped: {escape(finding.repair.description)}")
            continue
        console.print(f"[bold]{escape(finding.check)}[/]: {escape(await finding.repair.apply())}")
        done.add(id(finding.repair.apply))
    after = await examine(settings)
    render_findings(console, after)
    return not has_problems(after)
