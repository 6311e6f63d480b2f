"""Strategy engine on the real bus: bars in on ``market.bars``, signals out on ``signals``."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import Side
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import SignalEvent
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.strategies import StrategyStatus
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.services.strategy_engine import StrategyEngine
from jts.storage.sql.repositories import SqlStore
from jts.strategy.base import Strategy
from jts.strategy.sma_cross import SmaCrossStrategy

Observe = Callable[[str], list[Event]]

SAMSUNG = "KRX:005930"
HYNIX = "KRX:000660"
T0 = dt_to_ns(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # 09:00 KST
# SMA2 falls below SMA3 and stays there, then the jump to 110 lifts SMA2 (103.5) above
# SMA3 (101.67): one cross above, on the fifth bar.
FALL_THEN_JUMP = (100, 99, 98, 97, 110)
# Only falling: the fast average stays below, no cross.
FALLING = (100, 99, 98, 97, 96)


def bar(instrument_id: str, minute: int, close: int) -> Bar:
    price = Decimal(close)
    return Bar(
        instrument_id,
        Timeframe.M1,
        T0 + minute * NANOS_PER_MINUTE,
        price,
        price,
        price,
        price,
        Decimal(1_000),
    )


async def publish_bars(bus: InProcessMessageBus, clock: SimClock, bars: Sequence[Bar]) -> None:
    for item in bars:
        clock.set_time(item.close_ts)
        await bus.publish(
            topics.MARKET_BARS, BarEvent.from_bar(item, ts=clock.timestamp_ns(), source="test")
        )
    await bus.drain()


def sma_cross(strategy_id: str = "sma-2-3") -> SmaCrossStrategy:
    return SmaCrossStrategy(
        strategy_id=strategy_id, instruments=[SAMSUNG, HYNIX], params={"fast": 2, "slow": 3}
    )


class Exploding(Strategy):
    """Fails on its ``fail_on``-th bar (1-based); 0 fails in ``on_start``."""

    name: ClassVar[str] = "exploding"

    def __init__(self, strategy_id: str, fail_on: int) -> None:
        super().__init__(strategy_id=strategy_id)
        self.fail_on = fail_on
        self.bars_seen = 0

    def on_start(self) -> None:
        if self.fail_on == 0:
            raise RuntimeError("cannot start")

    def on_bar(self, bar: Bar) -> None:
        self.bars_seen += 1
        self.buy(bar, "half a decision")
        if self.bars_seen == self.fail_on:
            raise ZeroDivisionError("bug in user code")


async def test_sma_cross_above_publishes_a_buy_signal(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    signals = observe(topics.SIGNALS)
    clock = SimClock(T0)
    engine = StrategyEngine(bus, clock, [sma_cross()], store.strategies)
    await engine.start()

    bars = [bar(SAMSUNG, i, p) for i, p in enumerate(FALL_THEN_JUMP)]
    bars += [bar(HYNIX, i, p) for i, p in enumerate(FALLING)]
    await publish_bars(bus, clock, sorted(bars, key=lambda b: b.ts))

    assert len(signals) == 1
    event = signals[0]
    assert isinstance(event, SignalEvent)
    signal = event.signal
    assert signal.instrument_id == SAMSUNG
    assert signal.side is Side.BUY
    assert signal.strategy_id == "sma-2-3"
    assert signal.price == Decimal(110)
    assert signal.ts == bars[4].close_ts  # known when the fifth bar closed
    assert "crossed above" in signal.reason
    assert engine.stats.bars == 10
    assert engine.stats.signals == 1
    assert not bus.failed

    records = {r.name: r.status for r in await store.strategies.list()}
    assert records == {"sma-2-3": StrategyStatus.RUNNING}
    await engine.stop()
    assert {r.name: r.status for r in await store.strategies.list()} == {
        "sma-2-3": StrategyStatus.STOPPED
    }


async def test_a_failing_strategy_is_faulted_and_the_others_keep_trading(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    signals = observe(topics.SIGNALS)
    clock = SimClock(T0)
    broken = Exploding("broken", fail_on=2)
    engine = StrategyEngine(bus, clock, [broken, sma_cross()], store.strategies)
    await engine.start()

    await publish_bars(bus, clock, [bar(SAMSUNG, i, p) for i, p in enumerate(FALL_THEN_JUMP)])

    # The broken strategy's first bar produced a signal; the bar that raised did not, and
    # it saw no bar after that.
    by_strategy = [
        (e.signal.strategy_id, e.signal.reason) for e in signals if isinstance(e, SignalEvent)
    ]
    assert by_strategy[0] == ("broken", "half a decision")
    assert [s for s, _ in by_strategy].count("broken") == 1
    assert [(s, "crossed above" in r) for s, r in by_strategy[1:]] == [("sma-2-3", True)]
    assert broken.bars_seen == 2
    assert "ZeroDivisionError" in engine.stats.faults["broken"]
    assert not bus.failed  # the engine's handler itself never failed

    records = {r.name: r.status for r in await store.strategies.list()}
    assert records == {"broken": StrategyStatus.FAULTED, "sma-2-3": StrategyStatus.RUNNING}
    await engine.stop()
    records = {r.name: r.status for r in await store.strategies.list()}
    assert records == {"broken": StrategyStatus.FAULTED, "sma-2-3": StrategyStatus.STOPPED}


async def test_a_strategy_failing_at_start_is_faulted_and_never_sees_a_bar(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    signals = observe(topics.SIGNALS)
    clock = SimClock(T0)
    broken = Exploding("broken-at-start", fail_on=0)
    engine = StrategyEngine(bus, clock, [broken, sma_cross()], store.strategies)
    await engine.start()
    assert engine.is_running

    await publish_bars(bus, clock, [bar(SAMSUNG, i, p) for i, p in enumerate(FALL_THEN_JUMP)])

    assert broken.bars_seen == 0
    assert [e.signal.strategy_id for e in signals if isinstance(e, SignalEvent)] == ["sma-2-3"]
    assert "on_start" in engine.stats.faults["broken-at-start"]
    records = {r.name: r.status for r in await store.strategies.list()}
    assert records["broken-at-start"] is StrategyStatus.FAULTED
    await engine.stop()


async def test_a_strategy_started_before_the_clock_has_a_time_is_not_dated_1970(
    bus: InProcessMessageBus, store: SqlStore
) -> None:
    clock = SimClock()  # a run's clock before its first bar
    engine = StrategyEngine(bus, clock, [sma_cross()], store.strategies)
    await engine.start()
    assert await store.strategies.list() == []  # nothing stamped at the epoch

    await publish_bars(bus, clock, [bar(SAMSUNG, 0, 100)])
    [record] = await store.strategies.list()
    assert record.status is StrategyStatus.RUNNING
    assert record.created_at == datetime(2026, 3, 3, 0, 1, tzinfo=UTC)  # the first bar's close
    await engine.stop()


class Always(Strategy):
    """Buys on every bar: each bar hands the engine's inline path a signal."""

    name: ClassVar[str] = "always"

    def on_bar(self, bar: Bar) -> None:
        self.buy(bar, self.strategy_id)


async def test_on_the_direct_bus_every_strategy_runs_after_one_signals_in_their_order() -> None:
    from jts.bus.direct import DirectMessageBus

    bus = DirectMessageBus()
    seen: list[str] = []

    async def on_signal(event: Event) -> None:
        assert isinstance(event, SignalEvent)
        seen.append(f"{event.signal.reason}@{event.signal.ts}")

    bus.subscribe(topics.SIGNALS, on_signal, group="watch")
    clock = SimClock(T0)
    engine = StrategyEngine(bus, clock, [Always(strategy_id="a"), Always(strategy_id="b")])
    await bus.start()
    await engine.start()
    bars = [bar(SAMSUNG, i, 100) for i in range(2)]
    await publish_bars(bus, clock, bars)  # type: ignore[arg-type]
    assert seen == [f"{s}@{b.close_ts}" for b in bars for s in ("a", "b")]
    assert engine.stats.bars == 2
    await engine.stop()
    await bus.stop()
