"""The time-series store as its one writer opens it: with the bar journal recovered first."""

from __future__ import annotations

from pathlib import Path

from jts.app.settings import Settings
from jts.storage.bar_journal import FileBarJournal
from jts.storage.bar_journal import recover_journal
from jts.storage.clickhouse.store import ClickHouseBarStore


def bar_journal_dir(settings: Settings) -> Path:
    """The bar journal of the process that owns the time-series store."""
    return settings.data_dir / "bar-journal"


async def open_market_store(settings: Settings) -> tuple[ClickHouseBarStore, FileBarJournal]:
    """Open the store and its journal, storing the bars an interrupted run left journalled.

    Nothing may resume (or read "the latest bar") before this: a bar a crashed run
    published but never stored is in the journal only.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    journal: FileBarJournal | None = None
    try:
        journal = FileBarJournal(bar_journal_dir(settings))
        await recover_journal(journal, store)
    except BaseException:
        if journal is not None:
            journal.close()
        await store.close()
        raise
    return store, journal
