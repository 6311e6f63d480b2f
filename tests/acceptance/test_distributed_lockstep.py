"""Minute watermarks across ``jts serve`` processes: the feed in lockstep over Kafka.

market-data closes each minute on every ``market.bars`` partition and waits; the
strategy engine forwards the marks on ``signals``, and so does the paper venue once it
matched the minute; order execution reads the venue's reports up to date, sizes the
minute's signals once every lane closed it and marks it settled; the portfolio marks
it booked. The feed publishes the next minute only then, so the session ends only if
every mark made it through every process (a lost or misread mark stalls the feed).
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

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.backtest.fingerprint import fill_lines
from jts.storage.memory import MemoryStore
from jts.storage.sql.repositories import SqlStore

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres]


async def _run_lockstep(
    cluster: Cluster,  # noqa: F811
    store: SqlStore,  # noqa: F811
    env: dict[str, str],
) -> list[str]:
    cluster.speed = 0.0  # no pacing by the clock: only the marks hold the feed back
    cluster.extra_env.update({"JTS_BUS__KAFKA__LOCKSTEP": "true", **env})
    start_consumers(cluster)
    start_feed(cluster)
    wait_for_feed_end(cluster)
    counts = await assert_exactly_once(cluster, store)
    assert counts["orders"] >= 5, counts
    assert cluster.stats("market-data")["minutes"] == 390
    logs = cluster.log("market-data")
    assert "not settled after" not in logs, logs
    return fill_lines(await store.fills.list())


async def _in_process(cluster: Cluster, **sections: object) -> list[str]:  # noqa: F811
    settings = load_settings(data_dir=cluster.root / "inprocess", **sections)  # type: ignore[arg-type]
    platform = await open_platform(settings, store=MemoryStore())
    try:
        await platform.run()
        return fill_lines(await platform.sql.fills.list())
    finally:
        await platform.close()


async def test_a_lockstep_feed_waits_for_every_process_to_settle_each_minute(
    cluster: Cluster,  # noqa: F811
    store: SqlStore,  # noqa: F811
) -> None:
    fills = await _run_lockstep(cluster, store, {})
    # Cash is plentiful here: nothing competes, and the processes trade as one process.
    assert fills == await _in_process(cluster, feed={"sessions": 1})


async def test_with_tight_cash_the_processes_trade_as_one_process(
    cluster: Cluster,  # noqa: F811
    store: SqlStore,  # noqa: F811
) -> None:
    env = {
        "JTS_FEED__SYNTHETIC_SYMBOLS": "12",
        "JTS_FEED__SEED": "5",
        "JTS_PAPER__STARTING_CASH": "32000000",
    }
    fills = await _run_lockstep(cluster, store, env)
    expected = await _in_process(
        cluster,
        feed={"sessions": 1, "synthetic_symbols": 12, "seed": 5},
        paper={"starting_cash": 32_000_000},
    )
    assert fills == expected
