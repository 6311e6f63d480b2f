"""The message bus: topics of ARCHITECTURE.md, at-least-once, ordered per key."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Protocol
from typing import runtime_checkable

from jts.domain.events import Event

Handler = Callable[[Event], Awaitable[None]]
InlineHandler = Callable[[Event], Awaitable[None] | None]
"""A handler that mostly needs no await: None when it is done, else an awaitable of the rest."""


def awaiting(handler: InlineHandler) -> Handler:
    """``handler`` as a plain ``Handler``, for buses that await every delivery anyway."""

    async def handle(event: Event) -> None:
        rest = handler(event)
        if rest is not None:
            await rest

    return handle


class MessageBus(Protocol):
    async def start(self) -> None:
        """Open connections and start delivering to subscribers."""
        ...

    async def stop(self) -> None:
        """Deliver what is in hand, then close; nothing is dropped silently."""
        ...

    async def publish(self, topic: str, event: Event) -> None:
        """Publish ``event`` on ``topic``, keyed by ``event.key``.

        May wait when consumers are behind (back-pressure); never grows without bound.
        """
        ...

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        """Deliver every event on ``topic`` to ``handler`` once per consumer ``group``.

        Events with the same key arrive in publish order; an ``event_id`` already
        handled by the group is not handled again.
        """
        ...

    def subscribe_inline(self, topic: str, handler: InlineHandler, *, group: str) -> None:
        """``subscribe`` for a handler that usually finishes without awaiting (a bar's mark).

        The same delivery rules; a bus that delivers inline calls it with no coroutine
        per event, the others may wrap it (``awaiting``).
        """
        ...

    async def drain(self) -> None:
        """Wait until every event published so far has been handled."""
        ...


@runtime_checkable
class PartitionedBus(Protocol):
    """A bus whose topics have partitions a publisher can address (Kafka).

    Watermarks (``MinuteMark``) go to every partition of a topic so each consumer,
    whatever partitions it owns, sees the mark after that partition's events.
    """

    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has."""
        ...

    async def publish_to(self, topic: str, event: Event, partition: int) -> None:
        """Publish ``event`` on one partition of ``topic``, whatever its key says."""
        ...
