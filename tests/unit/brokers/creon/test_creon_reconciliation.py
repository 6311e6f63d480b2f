"""Which Creon orders are ours: lost answers resolved from today's orders, never resent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.creon_venue import CreonHarness
from fakes.creon_venue import first
from fakes.creon_venue import limit_order as limit
from fakes.creon_venue import wired_venue
from fakes.venue_harness import Reports
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.creon.reconciliation import chain_report
from jts.brokers.creon.reconciliation import link
from jts.brokers.creon.schemas import OrderOut
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import OutcomeUnknown


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[CreonHarness, Reports]]:
    async with wired_venue(tmp_path) as wired:
        yield wired


async def test_dropped_answer_is_unknown_then_matched_never_resent(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    harness.market_state.drop_next_order_response()
    with pytest.raises(OutcomeUnknown):
        await harness.execution.submit_order(limit("C4", 69_000))
    assert harness.venue_order_count() == 1  # the bridge did place it
    status = await harness.execution.query_order("C4")
    assert status is not None
    assert (status.venue_order_id, status.status) == ("1001", OrderStatus.ACCEPTED)
    await harness.execution.submit_order(limit("C4", 69_000))  # resubmit: nothing sent
    assert harness.venue_order_count() == 1
    accepted = (await first(reports, 1))[0]
    assert (accepted.client_order_id, accepted.venue_order_id) == ("C4", "1001")

    restarted = await harness.new_execution_client()
    again = await restarted.query_order("C4")
    assert again is not None and again.venue_order_id == "1001"
    await restarted.submit_order(limit("C4", 69_000))
    assert harness.venue_order_count() == 1
    assert harness.market_state.submissions == 1


async def test_unknown_resolved_from_a_fresh_journal_reader(
    venue: tuple[CreonHarness, Reports],
) -> None:
    """The first client dies right after the dropped answer; a new one resolves the intent."""
    harness, _reports = venue
    harness.market_state.drop_next_order_response()
    with pytest.raises(OutcomeUnknown):
        await harness.execution.submit_order(limit("C5", 68_000))
    await harness.execution.disconnect()
    fresh = await harness.new_execution_client()
    status = await fresh.query_order("C5")
    assert status is not None and status.venue_order_id == "1001"
    assert harness.venue_order_count() == 1


def row(number: str, orig: str | None, **fields: object) -> OrderOut:
    values: dict[str, object] = {
        "order_no": number,
        "code": "A005930",
        "side": Side.BUY,
        "quantity": 10,
        "price": Decimal(69_000),
        "filled_quantity": 0,
        "avg_fill_price": None,
        "open_quantity": 0,
        "status": OrderStatus.CANCELED,
        "ts": 1,
        "orig_order_no": orig,
    }
    values.update(fields)
    return OrderOut.model_validate(values)


def test_a_chain_of_numbers_is_linked_oldest_first_and_reads_as_one_order() -> None:
    journal = IntentJournal(None)
    journal.record(OrderIntent("C1", "KRX:005930", Side.BUY, Decimal(10), Decimal(69_000), 1))
    journal.bind("C1", "1001")
    rows = [  # newest first, as a look-up may list them; 2001 is someone else's
        row(
            "1003",
            "1002",
            quantity=4,
            price=Decimal(68_800),
            open_quantity=4,
            status=OrderStatus.ACCEPTED,
        ),
        row("2001", None, status=OrderStatus.ACCEPTED, open_quantity=10),
        row(
            "1002",
            "1001",
            quantity=7,
            price=Decimal(68_900),
            filled_quantity=3,
            avg_fill_price=Decimal(68_900),
        ),
        row("1001", None, filled_quantity=3, avg_fill_price=Decimal(69_000)),
    ]
    link(journal, rows)
    assert sorted(journal.venue_ids_of("C1")) == ["1001", "1002", "1003"]
    intent = journal.get("C1")
    assert intent is not None and intent.venue_order_id == "1003"  # the working number
    assert journal.client_id_of("2001") is None
    members = [r for r in rows if r.order_no in set(journal.venue_ids_of("C1"))]
    report = chain_report("C1", "1003", members)
    assert report is not None
    assert (report.status, report.venue_order_id, report.price) == (
        OrderStatus.PARTIALLY_FILLED,
        "1003",
        Decimal(68_800),
    )
    assert (report.filled_quantity, report.quantity) == (Decimal(6), Decimal(10))
    assert report.avg_fill_price == Decimal(68_950)
