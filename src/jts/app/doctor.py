"""``jts doctor``: is this data folder consistent, and what would make it so.

Every check only reads. A check that finds something it can mend offers a
``Repair``; nothing is mended unless the person asks (``jts doctor --repair``).
What is checked is what a crash, an old version or a hand edit can leave behind:
bars journalled but never stored, market time that went back (the same minutes
traded twice), fills that would leave a position short, a ``positions`` table
that disagrees with the fills it is derived from, and orders still open.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from jts.app.market_store import bar_journal_dir
from jts.app.settings import Settings
from jts.domain.enums import OrderStatus
from jts.domain.errors import JtsError
from jts.domain.fills import Fill
from jts.domain.positions import Position
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt
from jts.storage.bar_journal import FileBarJournal
from jts.storage.bar_journal import journal_in_use
from jts.storage.bar_journal import journal_segments
from jts.storage.bar_journal import read_segment
from jts.storage.bar_journal import recover_journal
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.clickhouse.store import chdb_path
from jts.storage.dead_letters import DeadLetterRecord
from jts.storage.dead_letters import dead_letters_path
from jts.storage.dead_letters import list_dead_letters
from jts.storage.halts import FileHaltStore
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.inspection import fills_in_written_order
from jts.storage.sql.inspection import latest_recorded_ts
from jts.storage.sql.migrate import check_schema_current
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore


class Severity(StrEnum):
    OK = "ok"
    NOTE = "note"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class Repair:
    """What would be done, and the coroutine that does it (returns what it did)."""

    description: str
    apply: Callable[[], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    severity: Severity
    message: str
    repair: Repair | None = None


def _ok(check: str, message: str) -> Finding:
    return Finding(check, Severity.OK, message)


def _kst(ts: int) -> str:
    return ns_to_dt(ts).astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


async def examine(settings: Settings) -> list[Finding]:
    """Every check's finding, in a stable order; never writes anything."""
    findings: list[Finding] = []
    db_file = sqlite_path(settings.sql_url)
    if db_file is not None and not db_file.exists():
        findings.append(_ok("database", f"no database yet at {db_file}: nothing to check"))
        return findings
    try:
        check_schema_current(settings.sql_url)
    except JtsError as exc:
        findings.append(
            Finding(
                "schema",
                Severity.PROBLEM,
                str(exc),
                Repair("apply the database migrations (jts db upgrade)", _upgrader(settings)),
            )
        )
        return findings
    findings.append(_ok("schema", "database schema is current"))
    findings += _journal_findings(settings)
    findings += await _halt_findings(settings)
    findings += _dead_letter_findings(settings)
    sql = SqlStore.open(settings.sql_url)
    try:
        findings += await _ledger_findings(settings, sql)
    finally:
        await sql.close()
    return findings


def has_problems(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.PROBLEM for f in findings)


# -- trading halts ---------------------------------------------------------------------------


async def _halt_findings(settings: Settings) -> list[Finding]:
    """A halted account is a decision for a person: shown, never resumed from here."""
    try:
        halts = await FileHaltStore(settings.data_dir).all()
    except JtsError as exc:
        return [Finding("trading halts", Severity.PROBLEM, str(exc))]
    return [
        Finding(
            "trading halts",
            Severity.PROBLEM,
            f"account {halt.account} halted since {_kst(halt.since_ts)}: {halt.summary}; after "
            f"checking the account: jts orders resume {halt.account} --reason '...'",
        )
        for halt in halts.values()
    ] or [_ok("trading halts", "no account is halted")]


# -- dead letters ----------------------------------------------------------------------------


def _dead_letter_findings(settings: Settings) -> list[Finding]:
    """Events given up on in a storage outage: never re-sent from here (the market moved on)."""
    letters = list_dead_letters(settings.data_dir)
    if not letters:
        return [_ok("dead letters", "no event was given up on")]
    shown = "; ".join(_letter(letter) for letter in letters[:3])
    more = f" (+{len(letters) - 3} more)" if len(letters) > 3 else ""
    path = dead_letters_path(settings.data_dir)

    async def acknowledge() -> str:
        target = archive_dir(settings)
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target / path.name))
        return f"moved {path.name} to {target}"

    return [
        Finding(
            "dead letters",
            Severity.PROBLEM,
            f"{len(letters)} events were given up on during a storage outage and never became "
            f"orders: {shown}{more}",
            Repair(
                "acknowledge them: move the dead-letter file to the archive (kept, not deleted)",
                acknowledge,
            ),
        )
    ]


def _letter(letter: DeadLetterRecord) -> str:
    if letter.problem is not None:
        return f"line {letter.line}: {letter.problem}"
    when = (
        f" at {letter.market_time.astimezone(KST):%Y-%m-%d %H:%M KST}" if letter.market_time else ""
    )
    return f"{letter.event_type} {letter.event_id} (key {letter.key}){when}: {letter.reason}"


def archive_dir(settings: Settings) -> Path:
    """A fresh folder under ``<data_dir>/archive`` named for now (the CLI's wall clock)."""
    return settings.data_dir / "archive" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# -- bar journal -----------------------------------------------------------------------------


def _journal_findings(settings: Settings) -> list[Finding]:
    if journal_in_use(bar_journal_dir(settings)):
        return [
            Finding(
                "bar journal",
                Severity.NOTE,
                "in use by a running market-data process or run: its bars are its own to "
                "store; check again once it stopped",
            )
        ]
    segments = journal_segments(bar_journal_dir(settings))
    pending = 0
    bad: list[str] = []
    for path in segments:
        segment = read_segment(path)
        pending += len(segment.bars)
        bad += [f"{path.name} line {line}: {why}" for line, why in segment.bad[:3]]
    findings = []
    if pending:
        findings.append(
            Finding(
                "bar journal",
                Severity.PROBLEM,
                f"{pending:,} bars journalled by an interrupted run are not in the time-series "
                "store yet (the next start stores them first)",
                Repair("store the journalled bars now", _journal_recovery(settings)),
            )
        )
    if bad:
        findings.append(
            Finding(
                "bar journal",
                Severity.PROBLEM,
                "unreadable journal lines: " + "; ".join(bad),
                Repair(
                    "keep the readable bars, move the damaged segment aside as *.corrupt",
                    _journal_recovery(settings),
                ),
            )
        )
    if not findings:
        findings.append(_ok("bar journal", "no bars waiting to be stored"))
    return findings


def _journal_recovery(settings: Settings) -> Callable[[], Awaitable[str]]:
    async def repair() -> str:
        store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
        journal = FileBarJournal(bar_journal_dir(settings))
        try:
            written = await recover_journal(journal, store)
        finally:
            journal.close()
            await store.close()
        return f"stored {written:,} journalled bars"

    return repair


# -- orders, fills and positions -------------------------------------------------------------


async def _ledger_findings(settings: Settings, sql: SqlStore) -> list[Finding]:
    findings: list[Finding] = []
    traces = await fills_in_written_order(sql)
    backwards = []
    newest = 0
    for trace in traces:
        if trace.ts < newest:
            backwards.append((trace, newest))
        newest = max(newest, trace.ts)
    archive = _archiver(settings)
    if backwards:
        first, before = backwards[0]
        findings.append(
            Finding(
                "market time",
                Severity.PROBLEM,
                f"{len(backwards):,} fills were traded at market times already traded: fill "
                f"{first.fill_id} at {_kst(first.ts)} was written after one at {_kst(before)} "
                "(a run resumed before the minutes it had already traded)",
                archive,
            )
        )
    else:
        findings.append(_ok("market time", f"{len(traces):,} fills, market time never went back"))

    fills = await sql.fills.list()
    rebuilt = _positions_from(fills, settings.paper.account, settings.paper.currency)
    shorts = [p for p in rebuilt.values() if p.quantity < 0]
    if shorts and not settings.paper.allow_short:
        findings.append(
            Finding(
                "positions",
                Severity.PROBLEM,
                "the fills leave positions short with short selling off: "
                + ", ".join(f"{p.instrument_id} {p.quantity}" for p in shorts),
                archive,
            )
        )
    stored = {p.instrument_id: p for p in await sql.positions.list(settings.paper.account)}
    broken = bool(backwards) or (bool(shorts) and not settings.paper.allow_short)
    differ = sorted(
        key
        for key in set(stored) | set(rebuilt)
        if _quantity(stored.get(key)) != _quantity(rebuilt.get(key))
    )
    if differ:
        findings.append(
            Finding(
                "positions table",
                Severity.PROBLEM,
                "positions rows disagree with the fills they come from: "
                + ", ".join(
                    f"{key} stored {_quantity(stored.get(key))}, "
                    f"fills say {_quantity(rebuilt.get(key))}"
                    for key in differ
                ),
                # Rows rebuilt from a broken ledger would be just as wrong: archive instead.
                archive
                if broken
                else Repair(
                    "rewrite the positions rows from the fills", _rewriter(settings, rebuilt)
                ),
            )
        )
    elif not shorts:
        findings.append(_ok("positions", f"{len(rebuilt)} positions agree with the fills"))

    open_orders = await sql.orders.list(statuses=[s for s in OrderStatus if not s.is_terminal])
    if open_orders:
        findings.append(
            Finding(
                "open orders",
                Severity.NOTE,
                f"{len(open_orders)} orders still open "
                f"({', '.join(sorted({o.status.value for o in open_orders}))}): the next start "
                "reconciles them with the venue",
            )
        )
    findings += await _bars_behind(settings, sql)
    return findings


async def _bars_behind(settings: Settings, sql: SqlStore) -> list[Finding]:
    """Orders or fills later than every stored bar: bars lost by a crash of an old version."""
    if settings.clickhouse_url is None and not chdb_path(settings.data_dir).is_dir():
        return []
    traded = await latest_recorded_ts(sql)
    if not traded:
        return []
    try:
        store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    except JtsError as exc:
        return [Finding("bars", Severity.NOTE, f"time-series store not readable now: {exc}")]
    try:
        latest = await store.latest_bars()
    finally:
        await store.close()
    pending = [
        bar
        for path in journal_segments(bar_journal_dir(settings))
        for bar in read_segment(path).bars
    ]
    stored = max([0, *(b.close_ts for b in latest.values()), *(b.close_ts for b in pending)])
    if stored >= traded:
        return [_ok("bars", "every order and fill has its bars stored")]
    return [
        Finding(
            "bars",
            Severity.NOTE,
            f"orders or fills up to {_kst(traded)} but bars only up to "
            f"{_kst(stored) if stored else 'none'}: those bars were lost by a crash; a resumed "
            "run still starts after the latest order or fill, never before",
        )
    ]


def _quantity(position: Position | None) -> Decimal:
    return position.quantity if position is not None else Decimal(0)


def _positions_from(fills: list[Fill], account: str, currency: str) -> dict[str, Position]:
    positions: dict[str, Position] = {}
    for fill in sorted(fills, key=lambda f: (f.ts, f.fill_id)):
        position = positions.get(fill.instrument_id)
        if position is None:
            position = Position(fill.instrument_id, account, currency=currency)
            positions[fill.instrument_id] = position
        position.apply_fill(fill)
    return positions


def _rewriter(settings: Settings, rebuilt: dict[str, Position]) -> Callable[[], Awaitable[str]]:
    async def repair() -> str:
        sql = SqlStore.open(settings.sql_url)
        try:
            for position in rebuilt.values():
                await sql.positions.upsert(position)
        finally:
            await sql.close()
        return f"rewrote {len(rebuilt)} positions rows from the fills"

    return repair


def _upgrader(settings: Settings) -> Callable[[], Awaitable[str]]:
    async def repair() -> str:
        upgrade(settings.sql_url)
        return "database migrated to the current schema"

    return repair


def _archiver(settings: Settings) -> Repair | None:
    """Move the embedded stores aside so the next run starts afresh; nothing is deleted."""
    db_file = sqlite_path(settings.sql_url)
    if db_file is None or settings.clickhouse_url is not None:
        return None

    async def repair() -> str:
        target = archive_dir(settings)
        target.mkdir(parents=True, exist_ok=True)
        moved = []
        candidates = [
            db_file,
            db_file.with_name(db_file.name + "-wal"),
            db_file.with_name(db_file.name + "-shm"),
            chdb_path(settings.data_dir),
            bar_journal_dir(settings),
        ]
        for path in candidates:
            if path.exists():
                shutil.move(str(path), str(target / path.name))
                moved.append(path.name)
        return f"moved {', '.join(moved)} to {target}; the next run starts with empty books"

    return Repair(
        "archive the inconsistent books and bars (moved, not deleted) so the next run starts "
        "afresh; the history stays readable under the data folder's archive/",
        repair,
    )
