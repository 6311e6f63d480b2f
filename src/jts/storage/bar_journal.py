"""A write-ahead journal of bars, so a crash never loses a bar something already acted on.

The time-series store is written in large batches; between two batches the bars
live only in memory. The collector appends every accepted batch here first (one
``write`` and one ``fdatasync``, a few hundred microseconds), then publishes it;
after a store write it releases the journal segments that write covered. At the
next start the bars still journalled are stored before anything else runs, so
resume sees every bar that was ever published.

Segments are plain text, one bar per line, tab separated. A line cut short by a
crash in the middle of a write has no newline: it was never published (publishing
waits for the write) and is dropped. Any other line that does not parse is a
corrupt journal: the segment is moved aside (``*.corrupt``) and logged, and the
lines that parsed are kept.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import IO

from jts.domain.errors import DataError
from jts.domain.errors import StorageError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.ports import BarStore

log = logging.getLogger("jts.storage.journal")

_SUFFIX = ".journal"
_FIELDS = 8


class FileBarJournal:
    """Segments ``bars-<n>.journal`` in one folder; the highest number is being written."""

    def __init__(self, folder: Path, *, sync: bool = True) -> None:
        self._folder = folder
        self._sync = sync
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"bar journal {folder}: {exc.strerror}") from None
        # One writer: a second process (or `jts doctor --repair`) would release segments
        # this one is still writing.
        self._lock = _lock(folder)
        self._pending: list[Bar] = []
        numbers = self._segments()
        for number in numbers:
            self._pending.extend(self._load(number))
        self._active = (numbers[-1] + 1) if numbers else 1
        self._file: IO[bytes] | None = None

    @property
    def folder(self) -> Path:
        return self._folder

    def append(self, bars: Sequence[Bar]) -> None:
        if not bars:
            return
        handle = self._file or self._open()
        # One write per batch: a crash leaves whole lines and at most one torn tail.
        handle.write("".join(_line(bar) for bar in bars).encode())
        handle.flush()
        if self._sync:
            os.fdatasync(handle.fileno())

    def seal(self) -> int:
        sealed = self._active
        if self._file is not None:
            self._file.close()
            self._file = None
        self._active += 1
        return sealed

    def release(self, sealed: int) -> None:
        for number in self._segments():
            if number <= sealed:
                self._path(number).unlink(missing_ok=True)
        self._pending.clear()

    def pending(self) -> list[Bar]:
        """Bars journalled by an earlier process and not released yet."""
        return list(self._pending)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self._lock.closed:
            self._lock.close()  # closing the descriptor releases the lock

    def _open(self) -> IO[bytes]:
        self._file = self._path(self._active).open("ab")
        return self._file

    def _path(self, number: int) -> Path:
        return self._folder / f"bars-{number:08d}{_SUFFIX}"

    def _segments(self) -> list[int]:
        return [
            int(path.name[len("bars-") : -len(_SUFFIX)]) for path in journal_segments(self._folder)
        ]

    def _load(self, number: int) -> list[Bar]:
        path = self._path(number)
        segment = read_segment(path)
        if segment.torn:
            log.warning("bar journal %s: dropped a line cut short by a crash", path.name)
        if segment.bad:
            aside = _unused(path.with_suffix(".corrupt"))
            path.replace(aside)
            for index, reason in segment.bad[:5]:
                log.error("bar journal %s line %d unreadable: %s", path.name, index, reason)
            log.error(
                "bar journal %s: %d unreadable lines; segment kept as %s, %d bars recovered",
                path.name,
                len(segment.bad),
                aside.name,
                len(segment.bars),
            )
            # The good bars live on in a fresh segment numbered like the old one, written
            # whole before it takes the name: a crash now leaves it or nothing.
            fresh = path.with_suffix(".rewrite")
            with fresh.open("wb") as handle:
                handle.write("".join(_line(bar) for bar in segment.bars).encode())
                handle.flush()
                os.fsync(handle.fileno())
            fresh.replace(path)
        return segment.bars


@dataclass(frozen=True, slots=True)
class Segment:
    bars: list[Bar]
    torn: bool
    bad: list[tuple[int, str]]


def read_segment(path: Path) -> Segment:
    """A segment's bars, whether its tail was torn, and its unreadable lines (line, why)."""
    lines = path.read_bytes().decode(errors="replace").split("\n")
    # The last element is "" after a final newline, or a torn line never published.
    torn, lines = lines[-1], lines[:-1]
    bars: list[Bar] = []
    bad: list[tuple[int, str]] = []
    for index, line in enumerate(lines, start=1):
        try:
            bars.append(_parse(line))
        except (DataError, ValueError, InvalidOperation) as exc:
            bad.append((index, str(exc)))
    return Segment(bars, bool(torn), bad)


def journal_segments(folder: Path) -> list[Path]:
    """The segments in ``folder`` in write order (none when it does not exist)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"bars-*{_SUFFIX}"):
        stem = path.name[len("bars-") : -len(_SUFFIX)]
        if stem.isdigit():
            found.append((int(stem), path))
    return [path for _, path in sorted(found)]


_LOCK_FILE = ".writer.lock"


def _lock(folder: Path) -> IO[bytes]:
    handle = (folder / _LOCK_FILE).open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StorageError(
            f"bar journal {folder} is in use by another process (the one that owns the "
            "time-series store); stop it first"
        ) from None
    return handle


def journal_in_use(folder: Path) -> bool:
    """Whether a running process holds the journal (read-only: creates nothing)."""
    path = folder / _LOCK_FILE
    if not path.exists():
        return False
    with path.open("rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def _unused(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``...: an earlier set-aside segment is never overwritten."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


async def recover_journal(journal: FileBarJournal, store: BarStore) -> int:
    """Store what an earlier process journalled but never stored; returns bars written."""
    bars = journal.pending()
    if not bars:
        return 0
    sealed = journal.seal()
    written = await store.write_bars(bars)
    journal.release(sealed)
    log.info("bar journal: %d bars recovered, %d of them new to the store", len(bars), written)
    return written


def _line(bar: Bar) -> str:
    return (
        f"{bar.instrument_id}\t{bar.timeframe.value}\t{bar.ts}\t{bar.open}\t{bar.high}"
        f"\t{bar.low}\t{bar.close}\t{bar.volume}\n"
    )


def _parse(line: str) -> Bar:
    fields = line.split("\t")
    if len(fields) != _FIELDS:
        raise ValueError(f"{len(fields)} fields, not {_FIELDS}")
    instrument, timeframe, ts, open_, high, low, close, volume = fields
    return Bar(
        instrument,
        Timeframe(timeframe),
        int(ts),
        Decimal(open_),
        Decimal(high),
        Decimal(low),
        Decimal(close),
        Decimal(volume),
    )
