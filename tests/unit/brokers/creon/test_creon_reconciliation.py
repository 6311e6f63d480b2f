"""Which Creon orders are ours: lost answers resolved from today's orders, never resent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.creon_venue import CreonHarness
from fakes.creon_venue import first
from fakes.creon_venue import limit_order as limit
from fakes.creon_venue import wired_venue
from fakes.venue_harness import Reports
from jts.domain.enums import OrderStatus
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
