"""Trading halts in the data folder: durable, merged, seen by other readers, never misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from jts.domain.errors import StorageError
from jts.storage.halts import FileHaltStore


async def test_halts_merge_findings_and_other_readers_see_changes(tmp_path: Path) -> None:
    writer, reader = FileHaltStore(tmp_path), FileHaltStore(tmp_path)
    assert await reader.current("paper") is None
    await writer.halt("paper", "foreign_order: A", 10)
    await writer.halt("paper", "foreign_cancel: B", 20)
    halt = await reader.current("paper")
    assert halt is not None
    assert (halt.since_ts, halt.reasons, halt.findings) == (
        10,
        ("foreign_order: A", "foreign_cancel: B"),
        2,
    )
    assert await reader.current("kis") is None
    assert await writer.resume("paper", by="ops", reason="checked", ts=30) is not None
    assert await reader.current("paper") is None
    assert await writer.resume("paper", by="ops", reason="again", ts=40) is None


async def test_a_damaged_halt_file_is_an_error_never_not_halted(tmp_path: Path) -> None:
    store = FileHaltStore(tmp_path)
    await store.halt("paper", "foreign_order: A", 10)
    store.path.write_text('{"version": 1, "halts": {"paper": {"since_ts": ')
    with pytest.raises(StorageError, match="unreadable"):
        await FileHaltStore(tmp_path).current("paper")
