"""Strategy engine: bars from ``market.bars`` through user strategies to ``signals``.

User code runs inside a guard: a strategy that raises is faulted (and its
status stored) while the other strategies and the node keep running.

A status is stored with the clock's time. A run's clock may read 0 until its
first bar: a status recorded then waits for the clock (and says so in the log)
rather than being dated 1970-01-01.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from jts.core import topics
from jts.core.component import Component
from jts.core.watermarks import STAGE_BARS
from jts.core.watermarks import STAGE_SIGNALS
from jts.core.watermarks import broadcast
from jts.domain.errors import StrategyError
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import MinuteMark
from jts.domain.events import SignalEvent
from jts.domain.market import Bar
from jts.domain.signals import Signal
from jts.domain.strategies import StrategyRecord
from jts.domain.strategies import StrategyStatus
from jts.ports import Clock
from jts.ports import MessageBus
from jts.ports import StrategyRepository
from jts.strategy.base import Strategy
from jts.strategy.guard import run_guarded
from jts.strategy.guard import start_guarded

log = logging.getLogger("jts.strategy_engine")


@dataclass(slots=True)
class StrategyEngineStats:
    bars: int = 0
    signals: int = 0
    faults: dict[str, str] = field(default_factory=dict)


class StrategyEngine(Component):
    GROUP = "strategy-engine"

    def __init__(
        self,
        bus: MessageBus,
        clock: Clock,
        strategies: Sequence[Strategy],
        repository: StrategyRepository | None = None,
        name: str = "strategy-engine",
        *,
        forward_marks: bool = False,
    ) -> None:
        super().__init__(name)
        # Over Kafka: pass the collector's minute marks on to ``signals`` (see _forward).
        self.forward_marks = forward_marks
        self._bus = bus
        self._clock = clock
        self._strategies = list(strategies)
        self._repository = repository
        self._faulted: set[str] = set()
        # Statuses waiting for the clock to have a time, by strategy id.
        self._unrecorded: dict[str, tuple[Strategy, StrategyStatus]] = {}
        self.stats = StrategyEngineStats()
        bus.subscribe_inline(topics.MARKET_BARS, self.take_bar, group=self.GROUP)

    @property
    def strategies(self) -> list[Strategy]:
        return list(self._strategies)

    async def _on_start(self) -> None:
        for strategy in self._strategies:
            try:
                signals = start_guarded(strategy)
            except StrategyError as exc:
                await self._fault(strategy, str(exc))
                continue
            await self._record(strategy, StrategyStatus.RUNNING)
            await self._publish(signals)

    async def _on_stop(self) -> None:
        for strategy in self._strategies:
            if strategy.strategy_id not in self._faulted:
                await self._record(strategy, StrategyStatus.STOPPED)

    async def handle_bar(self, event: Event) -> None:
        rest = self.take_bar(event)
        if rest is not None:
            await rest

    def take_bar(self, event: Event) -> Awaitable[None] | None:
        """``handle_bar`` as an inline handler: a plain call until a strategy signals or faults.

        Most bars decide nothing, so they cost no coroutine; the first signal (or fault)
        hands the rest of the bar, the strategies after it included, to one.
        """
        if not isinstance(event, BarEvent):
            if isinstance(event, MinuteMark) and self.forward_marks:
                return self._forward(event)
            return None
        self.stats.bars += 1
        if self._unrecorded and self._clock.timestamp_ns() > 0:
            return self._record_then_run(event.bar)
        return self._run_from(event.bar, 0)

    def _run_from(self, bar: Bar, start: int) -> Awaitable[None] | None:
        strategies = self._strategies
        instrument_id = bar.instrument_id
        for index in range(start, len(strategies)):
            strategy = strategies[index]
            if strategy.strategy_id in self._faulted or not strategy.wants(instrument_id):
                continue
            try:
                signals = run_guarded(strategy, bar)
            except StrategyError as exc:
                return self._then_run(self._fault(strategy, str(exc)), bar, index + 1)
            if signals:  # most bars decide nothing
                return self._then_run(self._publish(signals), bar, index + 1)
        return None

    async def _then_run(self, work: Awaitable[None], bar: Bar, start: int) -> None:
        await work
        rest = self._run_from(bar, start)
        if rest is not None:
            await rest

    async def _record_then_run(self, bar: Bar) -> None:
        waiting, self._unrecorded = self._unrecorded, {}
        for strategy, status in waiting.values():
            await self._record(strategy, status)
        rest = self._run_from(bar, 0)
        if rest is not None:
            await rest

    async def _publish(self, signals: list[Signal]) -> None:
        for signal in signals:
            self.stats.signals += 1
            await self._bus.publish(
                topics.SIGNALS,
                SignalEvent.from_signal(signal, ts=self._clock.timestamp_ns(), source=self.name),
            )

    async def _forward(self, mark: MinuteMark) -> None:
        """The minute is handled on ``mark``'s partition: say so on every ``signals`` partition.

        The bus delivers the mark after every bar before it on its partition, and each of
        their signals was acknowledged when published, so the forwarded mark follows them.
        It names the bars partition it vouches for; order execution waits for all of them.
        """
        if mark.stage != STAGE_BARS:
            return
        forwarded = MinuteMark.of(
            STAGE_SIGNALS,
            mark.minute_ts,
            source=self.name,
            origin=mark.partition,
            origins=mark.partitions,
        )
        await broadcast(self._bus, topics.SIGNALS, forwarded)

    async def _fault(self, strategy: Strategy, reason: str) -> None:
        log.error("strategy %s faulted: %s", strategy.strategy_id, reason)
        self._faulted.add(strategy.strategy_id)
        self.stats.faults[strategy.strategy_id] = reason
        await self._record(strategy, StrategyStatus.FAULTED)

    async def _record(self, strategy: Strategy, status: StrategyStatus) -> None:
        if self._repository is None:
            return
        if self._clock.timestamp_ns() <= 0:
            # A fresh start before its first bar: stored with the first bar's time instead.
            log.info(
                "strategy %s: %s stored at the first bar (the clock has no market time yet)",
                strategy.strategy_id,
                status,
            )
            self._unrecorded[strategy.strategy_id] = (strategy, status)
            return
        await self._repository.upsert(
            StrategyRecord(
                name=strategy.strategy_id,
                status=status,
                created_at=self._clock.utc_now(),
                dsl_code=None,
            )
        )
