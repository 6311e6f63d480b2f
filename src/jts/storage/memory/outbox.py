"""The outbox in memory: pending oldest first, marked once, purged when published long ago."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

from jts.domain.errors import StorageError
from jts.ports.storage import StoredOutboxMessage
from jts.storage.memory.tables import Tables


class MemoryOutboxRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def pending(self, limit: int = 1000) -> list[StoredOutboxMessage]:
        if limit < 0:
            raise StorageError(f"reading the outbox failed: LIMIT must not be negative ({limit})")
        return [entry.stored for entry in islice(self._tables.unpublished.values(), limit)]

    async def mark_published(self, event_ids: Sequence[str], ts: int) -> int:
        tables = self._tables
        changed = 0
        for event_id in event_ids:
            entry = tables.outbox.get(event_id)
            if entry is None or entry.published_ts is not None:
                continue
            entry.published_ts = ts
            del tables.unpublished[entry.stored.seq]
            if not tables.keep_published:
                del tables.outbox[event_id]
            changed += 1
        return changed

    async def purge_published(self, before_ts: int) -> int:
        outbox = self._tables.outbox
        old = [
            event_id
            for event_id, entry in outbox.items()
            if entry.published_ts is not None and entry.published_ts < before_ts
        ]
        for event_id in old:
            del outbox[event_id]
        return len(old)
