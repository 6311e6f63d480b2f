"""A run's decision trail: every signal a strategy published, as the order desk saw it.

Orders and fills are in the relational store; signals only travel on the bus, so a
run that must show them (a backtest's ``signals.parquet``, a test comparing a paper
run with its backtest) listens to ``signals`` in a consumer group of its own, which
changes nothing for the services.
"""

from __future__ import annotations

from jts.core import topics
from jts.domain.events import Event
from jts.domain.events import SignalEvent
from jts.domain.signals import Signal
from jts.ports import MessageBus

GROUP = "signal-log"


class SignalLog:
    def __init__(self) -> None:
        self.signals: list[Signal] = []

    def attach(self, bus: MessageBus) -> SignalLog:
        """Subscribe before the bus starts, so the first signal is not missed."""
        bus.subscribe(topics.SIGNALS, self._on_signal, group=GROUP)
        return self

    async def _on_signal(self, event: Event) -> None:
        if isinstance(event, SignalEvent):
            self.signals.append(event.signal)
