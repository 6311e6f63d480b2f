"""Intent journal and matching: what resolves an order whose answer was lost."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.intents import match_intent
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import StorageError
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import NANOS_PER_SECOND

T0 = 1_750_000_000 * NANOS_PER_SECOND


def intent(cid: str = "c1", price: str | None = "70000", ts: int = T0) -> OrderIntent:
    return OrderIntent(
        cid, "KRX:005930", Side.BUY, Decimal(10), None if price is None else Decimal(price), ts
    )


def venue(
    vid: str,
    *,
    ts: int = T0 + NANOS_PER_SECOND,
    price: str = "70000",
    qty: int = 10,
    side: Side = Side.BUY,
    instrument: str = "KRX:005930",
) -> OrderStatusReport:
    return OrderStatusReport(
        None,
        vid,
        instrument,
        side,
        Decimal(qty),
        Decimal(price),
        Decimal(0),
        None,
        OrderStatus.ACCEPTED,
        ts,
    )


def test_journal_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "kis.journal"
    journal = IntentJournal(path)
    journal.record(intent("c1"))
    journal.record(intent("c2", price=None))
    journal.bind("c1", "0000012345")
    again = IntentJournal(path)
    assert again.get("c1") == intent("c1").__class__(
        **{
            **intent("c1").to_json(),
            "side": Side.BUY,
            "quantity": Decimal(10),
            "price": Decimal(70000),
            "venue_order_id": "0000012345",
        }
    )
    assert again.client_id_of("0000012345") == "c1"
    assert [i.client_order_id for i in again.unbound()] == ["c2"]
    assert again.get("c2") is not None and again.get("c2").price is None  # type: ignore[union-attr]


def test_a_damaged_journal_is_an_error_not_silence(tmp_path: Path) -> None:
    path = tmp_path / "bad.journal"
    path.write_text('{"client_order_id": "c1"}\n')
    with pytest.raises(StorageError, match="line 1"):
        IntentJournal(path)


def test_matching_needs_every_field_and_the_time_window() -> None:
    i = intent()
    assert match_intent(i, [venue("1")], set()) is not None
    assert match_intent(i, [venue("1", price="70100")], set()) is None
    assert match_intent(i, [venue("1", qty=11)], set()) is None
    assert match_intent(i, [venue("1", side=Side.SELL)], set()) is None
    assert match_intent(i, [venue("1", instrument="KRX:000660")], set()) is None
    assert match_intent(i, [venue("1", ts=T0 - 60 * NANOS_PER_SECOND)], set()) is None
    assert match_intent(i, [venue("1", ts=T0 + 600 * NANOS_PER_SECOND)], set()) is None


def test_claimed_orders_are_skipped_and_the_nearest_wins() -> None:
    i = intent()
    far = venue("far", ts=T0 + 50 * NANOS_PER_SECOND)
    near = venue("near", ts=T0 + 2 * NANOS_PER_SECOND)
    assert match_intent(i, [far, near], set()).venue_order_id == "near"  # type: ignore[union-attr]
    assert match_intent(i, [far, near], {"near"}).venue_order_id == "far"  # type: ignore[union-attr]


def test_market_intent_matches_venue_market_order() -> None:
    assert match_intent(intent(price=None), [venue("m", price="0")], set()) is not None
