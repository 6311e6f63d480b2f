"""One seeded scenario over several edges (lane counts, stores) trades to the last won alike.

The scenario keeps cash tight, so signals of one minute compete for it: which of them
gets it, and how much, must follow from the inputs alone, never from which bus lane
delivered first or how long a store took to answer. Each run must produce the same
fills (business fields: time, instrument, side, quantity, price, commission, tax)
and the same fingerprint over those fills and the equity curve.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.backtest.fingerprint import fill_lines
from jts.backtest.fingerprint import fingerprint as run_fingerprint
from jts.domain.enums import OrderStatus
from jts.sim.universe import synthetic_krx_instruments
from jts.storage.memory import MemoryStore
from kafka_tools import unique_prefix

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres]

SYMBOLS = 12
# Room for about three orders of 10 million at a time over twelve symbols: signals compete.
STARTING_CASH = Decimal(32_000_000)


@dataclass(frozen=True, slots=True)
class Outcome:
    fills: list[str]
    fingerprint: str
    cash: Decimal
    rejected_for_cash: int
    skipped_for_cash: int
    # Orders placed per strategy id.
    orders_by_strategy: dict[str, int]
    signals: int


async def _run(
    data_dir: Path,
    *,
    lanes: int,
    database_url: str | None = None,
    memory: bool = False,
    kafka: str | None = None,
    strategy_ids: list[str] | None = None,
) -> Outcome:
    """``kafka``: the broker to run over instead of the in-process bus (3 partitions a topic,
    topics and groups of their own), every service its own consumer group."""
    bus: dict[str, object] = {"lanes": lanes}
    if kafka is not None:
        bus = {
            "kind": "kafka",
            "kafka": {
                "bootstrap_servers": kafka,
                "topic_prefix": unique_prefix(),
                "partitions": 3,
                "lockstep": True,
            },
        }
    settings = load_settings(
        data_dir=data_dir,
        database_url=database_url,
        feed={"sessions": 1, "seed": 5},
        bus=bus,
        paper={"starting_cash": STARTING_CASH},
    )
    platform = await open_platform(
        settings,
        instruments=synthetic_krx_instruments(SYMBOLS),
        store=MemoryStore() if memory else None,
        strategy_ids=strategy_ids,
    )
    try:
        await platform.run()
        fills = await platform.sql.fills.list()
        orders = await platform.sql.orders.list()
        snapshot = platform.kernel.portfolio.snapshot()
        skipped = platform.kernel.execution.stats.skipped
        signals = platform.kernel.strategy_engine.stats.signals
    finally:
        await platform.close()
    rejected = [
        o for o in orders if o.status is OrderStatus.REJECTED and "cash" in (o.reason or "")
    ]
    return Outcome(
        fills=fill_lines(fills),
        fingerprint=run_fingerprint(fills, platform.equity.curve()),
        cash=snapshot.cash,
        rejected_for_cash=len(rejected),
        skipped_for_cash=skipped.get("cash too small for one lot", 0),
        orders_by_strategy=dict(Counter(o.strategy_id or "" for o in orders)),
        signals=signals,
    )


async def test_one_scenario_trades_alike_over_every_edge(tmp_path: Path, postgres_url: str) -> None:
    baseline = await _run(tmp_path / "lanes1-sqlite", lanes=1)
    assert len(baseline.fills) > 50, "the scenario should trade"
    assert baseline.skipped_for_cash > 0, "cash should be tight enough that signals compete"
    # Our own reservations keep every buy within the cash: the venue never has to refuse one.
    assert baseline.rejected_for_cash == 0
    # (edge, lanes, database URL or None for SQLite, in-memory store)
    edges = [("lanes 4 + PostgreSQL", 4, postgres_url, False), ("lanes 8 + memory", 8, None, True)]
    for edge, lanes, url, memory in edges:
        outcome = await _run(tmp_path / edge, lanes=lanes, database_url=url, memory=memory)
        assert outcome.fills == baseline.fills, edge
        assert outcome.cash == baseline.cash, edge
        assert outcome.fingerprint == baseline.fingerprint, edge


async def test_the_scenario_over_kafka_trades_as_in_process(
    tmp_path: Path, postgres_url: str, kafka_bootstrap: str
) -> None:
    """Over Kafka only minute watermarks say when a minute's signals are all in."""
    baseline = await _run(tmp_path / "lanes1-memory", lanes=1, memory=True)
    assert len(baseline.fills) > 50, "the scenario should trade"
    # (edge, database URL or None for SQLite, in-memory store)
    edges = [("Kafka + SQLite", None, False), ("Kafka + PostgreSQL", postgres_url, False)]
    for edge, url, memory in edges:
        outcome = await _run(
            tmp_path / edge, lanes=1, database_url=url, memory=memory, kafka=kafka_bootstrap
        )
        assert outcome.fills == baseline.fills, edge
        assert outcome.cash == baseline.cash, edge
        assert outcome.fingerprint == baseline.fingerprint, edge


async def test_two_strategies_signalling_one_instrument_in_one_minute_are_ordered_by_id(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """Two copies of one strategy signal every instrument in the same minutes; the engine
    runs ``sma-b`` first, so delivery order favours it. Signals are sized in strategy id
    order: ``sma-a`` gets each order, ``sma-b``'s copy finds it working, on every edge."""
    ids = ["sma-b", "sma-a"]
    baseline = await _run(tmp_path / "lanes1-memory", lanes=1, memory=True, strategy_ids=ids)
    assert baseline.orders_by_strategy.get("sma-a", 0) > 20, baseline.orders_by_strategy
    assert "sma-b" not in baseline.orders_by_strategy, baseline.orders_by_strategy
    assert baseline.signals >= 2 * baseline.orders_by_strategy["sma-a"]
    edges = [("lanes 8 + SQLite", 8, None), ("Kafka + memory", 1, kafka_bootstrap)]
    for edge, lanes, kafka in edges:
        outcome = await _run(
            tmp_path / edge, lanes=lanes, memory=kafka is not None, kafka=kafka, strategy_ids=ids
        )
        assert outcome.orders_by_strategy == baseline.orders_by_strategy, edge
        assert outcome.fills == baseline.fills, edge
        assert outcome.fingerprint == baseline.fingerprint, edge
