"""An append-only JSON-lines file, fsync'd per record: the broker journals' storage."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jts.domain.errors import StorageError


class JsonLines:
    """``path=None`` keeps nothing on disk (tests, venues whose state dies with them)."""

    def __init__(self, path: Path | None, what: str) -> None:
        self.path = path
        self.what = what
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, record) of every stored line, oldest first."""
        if self.path is None or not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError as exc:
                        raise self.damaged(number, exc) from exc

    def damaged(self, number: int, exc: Exception) -> StorageError:
        # A torn last line from a crash mid-write is the only expected damage.
        return StorageError(f"{self.what} {self.path} line {number}: {exc}")

    def append(self, record: dict[str, Any]) -> None:
        """Durable before it returns: the caller acts on the record only afterwards."""
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())
