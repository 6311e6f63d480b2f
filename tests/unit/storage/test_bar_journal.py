"""The bar journal keeps what was published until the store holds it, across crashes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jts.domain.errors import StorageError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.storage.bar_journal import FileBarJournal
from jts.storage.bar_journal import journal_in_use
from jts.storage.bar_journal import journal_segments
from jts.storage.bar_journal import read_segment

T0 = 1_793_581_200_000_000_000
MINUTE = 60_000_000_000


def bar(minute: int, close: str = "70000.5") -> Bar:
    price = Decimal(close)
    return Bar(
        "KRX:005930", Timeframe.M1, T0 + minute * MINUTE, price, price, price, price, Decimal(7)
    )


def test_bars_are_on_disk_as_soon_as_append_returns(tmp_path: Path) -> None:
    journal = FileBarJournal(tmp_path)
    journal.append([bar(0), bar(1, "0.00012345")])
    # Before any close: what a crash right now leaves, read back field for field.
    (segment,) = journal_segments(tmp_path)
    assert read_segment(segment).bars == [bar(0), bar(1, "0.00012345")]
    journal.close()
    assert FileBarJournal(tmp_path).pending() == [bar(0), bar(1, "0.00012345")]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    journal = FileBarJournal(tmp_path)
    assert journal_in_use(tmp_path)
    with pytest.raises(StorageError, match="in use by another process"):
        FileBarJournal(tmp_path)
    journal.close()
    assert not journal_in_use(tmp_path)
    FileBarJournal(tmp_path).close()


def test_released_segments_are_gone_and_later_ones_stay(tmp_path: Path) -> None:
    journal = FileBarJournal(tmp_path)
    journal.append([bar(0)])
    sealed = journal.seal()  # a flush begins with bar 0
    journal.append([bar(1)])  # arrives while the store write is under way
    journal.release(sealed)  # the store holds bar 0
    journal.close()
    assert FileBarJournal(tmp_path).pending() == [bar(1)]


def test_a_line_torn_by_a_crash_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    journal = FileBarJournal(tmp_path)
    journal.append([bar(0)])
    journal.close()
    (segment,) = journal_segments(tmp_path)
    with segment.open("ab") as handle:
        handle.write(b"KRX:005930\t1m\t179358126")  # the write the kill interrupted
    assert FileBarJournal(tmp_path).pending() == [bar(0)]


def test_a_corrupt_line_is_set_aside_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = FileBarJournal(tmp_path)
    journal.append([bar(0)])
    journal.close()
    (segment,) = journal_segments(tmp_path)
    with segment.open("ab") as handle:
        handle.write(b"KRX:005930\t1m\tnot-a-time\t1\t1\t1\t1\t1\n")
    with caplog.at_level("ERROR"):
        assert FileBarJournal(tmp_path).pending() == [bar(0)]
    assert "line 2 unreadable" in caplog.text
    assert segment.with_suffix(".corrupt").exists()
    # The good bar lives on in the journal; the bad line is only in the .corrupt copy.
    assert FileBarJournal(tmp_path).pending() == [bar(0)]
