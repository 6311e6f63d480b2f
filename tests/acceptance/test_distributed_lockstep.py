"""Minute watermarks across ``jts serve`` processes: the feed in lockstep over Kafka.

market-data closes each minute on every ``market.bars`` partition and waits; the
strategy engine forwards the marks on ``signals``; order execution sizes the minute's
signals once every lane closed it and marks it settled; the portfolio marks it booked.
The feed publishes the next minute only then, so the session ends only if every mark
made it through every process (a lost or misread mark stalls the feed and fails here).
"""

from __future__ import annotations

import pytest
from cluster import Cluster
from test_distributed import assert_exactly_once
from test_distributed import cluster  # noqa: F401 (fixture)
from test_distributed import start_consumers
from test_distributed import start_feed
from test_distributed import store  # noqa: F401 (fixture)
from test_distributed import wait_for_feed_end

from jts.storage.sql.repositories import SqlStore

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres]


async def test_a_lockstep_feed_waits_for_every_process_to_settle_each_minute(
    cluster: Cluster,  # noqa: F811
    store: SqlStore,  # noqa: F811
) -> None:
    cluster.speed = 0.0  # no pacing by the clock: only the marks hold the feed back
    cluster.extra_env["JTS_BUS__KAFKA__LOCKSTEP"] = "true"
    start_consumers(cluster)
    start_feed(cluster)
    wait_for_feed_end(cluster)

    counts = await assert_exactly_once(cluster, store)
    assert counts["orders"] >= 5, counts
    assert cluster.stats("market-data")["minutes"] == 390
    logs = cluster.log("market-data")
    assert "not settled after" not in logs, logs
