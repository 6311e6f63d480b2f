"""Component lifecycle: one small state machine shared by services and adapters.

Subclasses implement ``_on_start``/``_on_stop``; the public ``start``/``stop``
are final so every component logs, guards and reports state the same way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import final

from jts.domain.errors import JtsError


class ComponentState(StrEnum):
    READY = "READY"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FAULTED = "FAULTED"


class Component:
    """Base of long-lived parts; ``name`` shows in logs and event ``source`` fields."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = ComponentState.READY
        self.fault_reason: str | None = None

    @final
    async def start(self) -> None:
        if self.state is ComponentState.RUNNING:
            return
        if self.state not in (ComponentState.READY, ComponentState.STOPPED):
            raise JtsError(f"{self.name}: cannot start from {self.state}")
        self.state = ComponentState.STARTING
        try:
            await self._on_start()
        except BaseException as exc:
            self.fault(repr(exc))
            raise
        self.state = ComponentState.RUNNING

    @final
    async def stop(self) -> None:
        if self.state in (ComponentState.STOPPED, ComponentState.READY):
            self.state = ComponentState.STOPPED
            return
        self.state = ComponentState.STOPPING
        try:
            await self._on_stop()
        finally:
            self.state = ComponentState.STOPPED

    @final
    def fault(self, reason: str) -> None:
        self.state = ComponentState.FAULTED
        self.fault_reason = reason

    @property
    def is_running(self) -> bool:
        return self.state is ComponentState.RUNNING

    async def _on_start(self) -> None:
        """Acquire resources and subscribe; override as needed."""

    async def _on_stop(self) -> None:
        """Finish in-flight work and release resources; override as needed."""
