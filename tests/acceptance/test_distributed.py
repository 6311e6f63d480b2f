"""The roadmap's end-to-end test, and its fault tests, with every service its own process.

simulated feed -> bars on Kafka -> SMA cross -> signal -> order in PostgreSQL and on
``orders.pending`` -> paper venue (its own process) -> fill -> ``orders.events`` and
``fills`` -> positions. Real Kafka and PostgreSQL from the project's scripts.

After each run the books are checked three ways: what the venue says it received
and executed, what order execution stored, and what the portfolio holds. Every
signal yields at most one order, every order reached the venue at most once
(the venue counts submissions per ``client_order_id``), and every fill is counted
exactly once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.services.execution.sizing import client_order_id_for
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from kafka_tools import group_lag
from kafka_tools import read_topic
from kafka_tools import unique_prefix

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres]


@pytest.fixture
def cluster(
    tmp_path: Path, kafka_bootstrap: str, postgres_url: str, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    upgrade(postgres_url)
    running = Cluster(tmp_path, kafka_bootstrap, postgres_url, unique_prefix())
    try:
        yield running
    finally:
        codes = running.stop_all()
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            for service in running.processes:
                print(f"--- {service} log ---\n{running.log(service)}")
    # A clean SIGTERM ends every process with 0.
    assert all(code == 0 for code in codes.values()), codes


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[SqlStore]:
    sql = SqlStore.open(postgres_url)
    yield sql
    await sql.close()


def start_consumers(cluster: Cluster) -> None:
    for service in ("paper-venue", "portfolio", "order-execution", "strategy-engine"):
        cluster.start(service)
    for service in ("paper-venue", "portfolio", "order-execution", "strategy-engine"):
        cluster.wait_ready(service)


def start_feed(cluster: Cluster) -> None:
    cluster.start("market-data", "--sessions", "1")
    cluster.wait_ready("market-data")


def minutes_fed(cluster: Cluster) -> int:
    return int(cluster.stats("market-data").get("minutes", 0))


def wait_for_feed_end(cluster: Cluster) -> None:
    cluster.wait_for(
        "market-data", lambda *_: bool(cluster.stats("market-data").get("finished")), timeout=300
    )


GROUPS = ("strategy-engine", "order-execution", "order-router", "portfolio", "paper-venue")


def backlog(cluster: Cluster) -> dict[str, int]:
    lags = {g: group_lag(cluster.kafka_bootstrap, cluster.topic_prefix + g) for g in GROUPS}
    return {group: lag for group, lag in lags.items() if lag}


async def wait_until_settled(cluster: Cluster, store: SqlStore, seconds: float = 120.0) -> None:
    """Until every consumer group has caught up and the three books stop disagreeing."""
    deadline = time.monotonic() + seconds
    problems: list[str] = []
    while time.monotonic() < deadline:
        behind = await asyncio.to_thread(backlog, cluster)
        problems = [f"consumer group behind: {behind}"] if behind else []
        if not problems:
            problems = await disagreements(cluster, store)
        if not problems:
            return
        await asyncio.sleep(1.0)
    raise AssertionError("books never agreed:\n" + "\n".join(problems[:20]))


async def disagreements(cluster: Cluster, store: SqlStore) -> list[str]:
    problems = []
    venue_orders = {o["client_order_id"]: o for o in cluster.venue("/orders")}
    stored = {o.client_order_id: o for o in await store.orders.list()}
    for client_id, theirs in venue_orders.items():
        ours = stored.get(client_id)
        if ours is None:
            problems.append(f"{client_id} is at the venue but not stored")
        elif ours.status.value != theirs["status"] or ours.filled_quantity != Decimal(
            theirs["filled_quantity"]
        ):
            problems.append(
                f"{client_id}: stored {ours.status} {ours.filled_quantity}, "
                f"venue {theirs['status']} {theirs['filled_quantity']}"
            )
    for client_id, ours in stored.items():
        if client_id not in venue_orders and ours.status is not OrderStatus.REJECTED:
            problems.append(f"{client_id} stored as {ours.status} but the venue never saw it")
    venue_fills = cluster.venue("/fills?since_ns=0")
    stored_fills = await store.fills.list()
    if sorted(f["fill_id"] for f in venue_fills) != sorted(f.fill_id for f in stored_fills):
        problems.append(f"fills: venue {len(venue_fills)}, stored {len(stored_fills)}")
    held: Counter[str] = Counter()
    for fill in venue_fills:
        sign = 1 if fill["side"] == "BUY" else -1
        held[fill["instrument_id"]] += sign * Decimal(fill["quantity"])
    positions = {p.instrument_id: p.quantity for p in await store.positions.list("paper")}
    for instrument in set(held) | set(positions):
        if held[instrument] != positions.get(instrument, Decimal(0)):
            problems.append(
                f"{instrument}: venue fills net {held[instrument]}, "
                f"portfolio {positions.get(instrument)}"
            )
    return problems


async def assert_exactly_once(cluster: Cluster, store: SqlStore) -> dict[str, Any]:
    await wait_until_settled(cluster, store)
    orders = await store.orders.list()
    venue_orders = cluster.venue("/orders")
    assert orders, "the run placed no orders"
    assert any(o.status is OrderStatus.FILLED for o in orders), "nothing was filled"
    # One order per signal: the client order id is derived from the signal id.
    assert all(o.client_order_id == client_order_id_for(o.signal_id or "") for o in orders)
    assert len({o.signal_id for o in orders}) == len(orders)
    # Nothing reached the venue twice.
    assert all(o["submissions"] == 1 for o in venue_orders), [
        (o["client_order_id"], o["submissions"]) for o in venue_orders if o["submissions"] != 1
    ]
    # Every stored order went out on orders.pending (at least once: consumers drop copies).
    prefix = cluster.topic_prefix
    pending = read_topic(
        cluster.kafka_bootstrap,
        prefix + topics.ORDERS_PENDING,
        until=lambda m: len({json.loads(x.value())["client_order_id"] for x in m}) >= len(orders),
    )
    assert {json.loads(m.value() or b"")["client_order_id"] for m in pending} == {
        o.client_order_id for o in orders
    }
    # Every order came from a signal that is on the signals topic.
    signals = read_topic(
        cluster.kafka_bootstrap,
        prefix + topics.SIGNALS,
        until=lambda m: signal_ids(m) >= {o.signal_id for o in orders},
    )
    assert {o.signal_id for o in orders} <= signal_ids(signals)
    fills = await store.fills.list()
    return {"orders": len(orders), "fills": len(fills), "venue_orders": len(venue_orders)}


def signal_ids(messages: list[Any]) -> set[str]:
    """Signal ids on ``signals``; minute marks (with watermarks on) share the topic."""
    bodies = [json.loads(m.value() or b"") for m in messages]
    return {b["signal"]["signal_id"] for b in bodies if b.get("type") == "signal"}


async def test_bars_to_signals_to_orders_to_fills_across_processes(
    cluster: Cluster, store: SqlStore
) -> None:
    start_consumers(cluster)
    start_feed(cluster)
    wait_for_feed_end(cluster)

    counts = await assert_exactly_once(cluster, store)

    events = read_topic(
        cluster.kafka_bootstrap,
        cluster.topic_prefix + topics.ORDERS_EVENTS,
        until=lambda m: any(json.loads(x.value())["status"] == "FILLED" for x in m),
    )
    assert any(json.loads(m.value() or b"")["status"] == "FILLED" for m in events)
    for service in cluster.processes:
        status, body = cluster.health(service)
        assert status == 200 and body["ready"], (service, body)
    logs = cluster.json_logs("order-execution")
    assert logs and all({"timestamp", "level", "event"} <= set(r) for r in logs)
    assert counts["orders"] >= 5


async def test_order_execution_killed_mid_run_and_restarted_loses_and_doubles_nothing(
    cluster: Cluster, store: SqlStore
) -> None:
    start_consumers(cluster)
    start_feed(cluster)
    await wait_for_orders(store, at_least=5)

    assert cluster.signal("order-execution", signal.SIGKILL) == -signal.SIGKILL
    killed_at = minutes_fed(cluster)
    await asyncio.sleep(3)  # signals and reports pile up while it is down
    cluster.start("order-execution")
    cluster.wait_ready("order-execution")
    wait_for_feed_end(cluster)

    counts = await assert_exactly_once(cluster, store)
    orders = await store.orders.list()
    assert killed_at < minutes_fed(cluster)
    assert any(o.created_ts > 0 for o in orders)
    assert counts["orders"] > 5, counts


async def test_kafka_restarted_mid_run_services_reconnect_and_nothing_is_lost(
    cluster: Cluster, store: SqlStore, kafka_restart: Callable[[], None]
) -> None:
    start_consumers(cluster)
    start_feed(cluster)
    await wait_for_orders(store, at_least=5)
    before = len(await store.orders.list())

    await asyncio.to_thread(kafka_restart)
    for service in cluster.processes:
        cluster.wait_ready(service, timeout=120)
    wait_for_feed_end(cluster)

    await assert_exactly_once(cluster, store)
    assert len(await store.orders.list()) > before, "no orders after the broker came back"


async def wait_for_orders(store: SqlStore, at_least: int, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        orders = await store.orders.list()
        if len(orders) >= at_least and any(o.status is OrderStatus.FILLED for o in orders):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"fewer than {at_least} orders after {seconds} s")


def test_serve_all_runs_every_service_and_stops_them_cleanly_on_sigterm(
    tmp_path: Path, kafka_bootstrap: str, postgres_url: str
) -> None:
    import subprocess
    import sys

    upgrade(postgres_url)
    cluster = Cluster(tmp_path, kafka_bootstrap, postgres_url, unique_prefix())
    log = (tmp_path / "all.log").open("wb")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "jts", "serve", "all", "--sessions", "1"],
        env=cluster.env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        waiting = set(cluster.ports)
        while waiting and time.monotonic() < deadline:
            assert supervisor.poll() is None, (tmp_path / "all.log").read_text()[-3000:]
            waiting = {s for s in waiting if cluster.health(s)[0] != 200}
            time.sleep(0.5)
        assert not waiting, f"not ready: {waiting}"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(120)
        cluster.stop_all()  # started none itself; lets go of the ports it held
    assert code == 0, (tmp_path / "all.log").read_text()[-3000:]
    assert all(cluster.health(s)[0] == 0 for s in cluster.ports)  # all gone


def published_bars(cluster: Cluster, at_least: int, timeout: float = 120.0) -> list[dict[str, Any]]:
    messages = read_topic(
        cluster.kafka_bootstrap,
        cluster.topic_prefix + topics.MARKET_BARS,
        until=lambda seen: len(seen) >= at_least,
        timeout=timeout,
    )
    return [json.loads(m.value()) for m in messages]


async def test_market_data_killed_mid_session_loses_no_published_bar_and_reuses_event_ids(
    cluster: Cluster,
) -> None:
    """SIGKILL of market-data: every bar it published is in the store after the restart,
    and no minute is ever published under two event ids."""
    cluster.speed = 200.0
    cluster.start("market-data")
    cluster.wait_ready("market-data")
    # Well short of the 5,000-bar store batch: before the journal these lived in memory only.
    before_kill = published_bars(cluster, at_least=600)
    assert len(before_kill) >= 600
    assert cluster.signal("market-data", signal.SIGKILL) == -signal.SIGKILL

    cluster.start("market-data", "--sessions", "1")
    cluster.wait_ready("market-data")
    # The restart plays one whole session: 390 minutes of 5 symbols.
    everything = published_bars(cluster, at_least=len(before_kill) + 390 * 5, timeout=180)
    assert cluster.signal("market-data", signal.SIGTERM) == 0
    del cluster.processes["market-data"]

    ids: dict[tuple[str, int], set[str]] = {}
    for event in everything:
        bar = event["bar"]
        ids.setdefault((bar["instrument_id"], bar["ts"]), set()).add(event["event_id"])
    twice = {key: found for key, found in ids.items() if len(found) > 1}
    assert not twice, f"{len(twice)} minutes published under more than one event id"

    from jts.storage.clickhouse.store import ClickHouseBarStore

    store = await ClickHouseBarStore.open(None, cluster.root / "data")
    try:
        stored = {
            (key, bar.ts)
            for key in {k for k, _ in ids}
            for bar in await store.read_bars(key, 0, 2**62)
        }
    finally:
        await store.close()
    missing = set(ids) - stored
    assert not missing, f"{len(missing)} published bars are not in the store, e.g. {min(missing)}"
