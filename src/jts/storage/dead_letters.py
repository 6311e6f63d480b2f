"""Dead letters: events a handler gave up on, kept in a JSON-lines file in the data folder.

The handlers that give up do so because the database failed, so their dead
letters cannot live there: each is one line of ``dead-letters.jsonl`` beside it,
appended and fsync'd before the handler lets its event go. ``list_dead_letters``
reads them back for ``jts doctor``; a line torn by a crash is listed as unreadable,
never skipped in silence. The event is kept exactly as it travelled, so it can be
decoded and handled again once the store is back.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.events import Event
from jts.domain.timestamps import ns_to_dt
from jts.ports.storage import DeadLetter

DEAD_LETTERS_FILE = "dead-letters.jsonl"


def dead_letters_path(data_dir: Path) -> Path:
    return data_dir / DEAD_LETTERS_FILE


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One line of the dead-letter file; ``problem`` is set when the line is unreadable."""

    line: int
    recorded_at: datetime | None = None
    market_time: datetime | None = None
    topic: str = ""
    group: str = ""
    event_type: str = ""
    event_id: str = ""
    key: str = ""
    reason: str = ""
    event_json: str = ""
    problem: str | None = None

    def event(self) -> Event:
        """The event as it was delivered (raises DataError for an unreadable record)."""
        return decode_event(self.event_json.encode("utf-8"))


class DeadLetterFile:
    """``DeadLetterSink`` on a JSON-lines file; appends are serialised and fsync'd."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def record(self, letter: DeadLetter) -> None:
        line = json.dumps(_to_json(letter), ensure_ascii=False, separators=(",", ":"))
        async with self._lock:
            await asyncio.to_thread(_append, self.path, line + "\n")


def _to_json(letter: DeadLetter) -> dict[str, Any]:
    return {
        "recorded_at": datetime.now(UTC).isoformat(),
        "market_time": ns_to_dt(letter.ts).isoformat() if letter.ts > 0 else None,
        "topic": letter.topic,
        "group": letter.group,
        "event_type": letter.event.type,
        "event_id": letter.event.event_id,
        "key": letter.event.key,
        "reason": letter.reason,
        "event": encode_event(letter.event).decode("utf-8"),
    }


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def list_dead_letters(data_dir: Path) -> list[DeadLetterRecord]:
    """Every dead letter in ``data_dir``, oldest first; empty when there is no file."""
    path = dead_letters_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            records.append(_parse(number, line))
    return records


def _parse(number: int, line: str) -> DeadLetterRecord:
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        market = data.get("market_time")
        return DeadLetterRecord(
            line=number,
            recorded_at=datetime.fromisoformat(str(data["recorded_at"])),
            market_time=None if market is None else datetime.fromisoformat(str(market)),
            topic=str(data["topic"]),
            group=str(data["group"]),
            event_type=str(data["event_type"]),
            event_id=str(data["event_id"]),
            key=str(data["key"]),
            reason=str(data["reason"]),
            event_json=str(data["event"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return DeadLetterRecord(line=number, problem=f"unreadable dead letter: {exc}")
