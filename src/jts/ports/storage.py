"""Repositories and the bar store: what services need from persistence, no more."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from jts.domain.backtests import BacktestRun
from jts.domain.enums import OrderStatus
from jts.domain.events import Event
from jts.domain.fills import Fill
from jts.domain.halts import TradingHalt
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An event to publish on ``topic`` once the state it announces is committed."""

    topic: str
    event: Event


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One order moved from ``previous`` to the status ``order`` has now, without a fill.

    ``order`` is the order as the change left it (a copy when the same order changes
    again in the same batch); ``reason`` goes to the audit entry.
    """

    order: Order
    previous: OrderStatus
    reason: str | None
    outbox: Sequence[OutboxMessage]


@dataclass(frozen=True, slots=True)
class StoredOutboxMessage:
    seq: int
    message: OutboxMessage
    created_ts: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event a handler gave up on after waiting out a storage outage, and why."""

    topic: str
    group: str
    event: Event
    reason: str
    # The clock's time when the handler gave up (market time in a simulation).
    ts: int


class DeadLetterSink(Protocol):
    """Keeps dead letters where the failing store is not (a file beside the database)."""

    async def record(self, letter: DeadLetter) -> None:
        """Durably keep ``letter``; raises OSError when even that fails."""
        ...


class OrderRepository(Protocol):
    async def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        """Persist a NEW order, its first audit entry and ``outbox``, in one transaction.

        Raises ``DuplicateOrder`` (and writes nothing) when the client order id is taken.
        """
        ...

    async def add_submitted(self, placed: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> None:
        """Persist orders about to be sent, each with its outbox, in ONE transaction.

        Each order is SUBMITTED (sized and sent at once, never routed as NEW), so two
        audit entries are written for it: created NEW at ``created_ts``, then NEW ->
        SUBMITTED at ``updated_ts``. One commit for a whole minute's orders is what keeps
        the order path at one durable write before the wire. Raises ``DuplicateOrder``
        (and writes nothing) when any client order id is taken, ``StorageError`` for an
        order that is not SUBMITTED.
        """
        ...

    async def save_transition(
        self,
        order: Order,
        previous: OrderStatus,
        *,
        reason: str | None = None,
        fill: Fill | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        """Persist ``order``'s new state, its audit entry, ``fill`` and ``outbox`` together.

        Returns False (and writes nothing) when ``fill`` was already recorded, so a
        replayed execution report is harmless.
        """
        ...

    async def save_transitions(self, changes: Sequence[StatusChange]) -> None:
        """Persist several status changes (and their outboxes) in ONE transaction, in order.

        What a venue answers to a batch of submits (ACCEPTED, REJECTED) costs one commit,
        not one per order. Raises ``StorageError`` (and writes nothing) when any order is
        not stored in its ``previous`` status, as ``save_transition`` refuses a stale one.
        """
        ...

    async def get(self, order_id: str) -> Order | None: ...

    async def get_by_client_id(self, client_order_id: str) -> Order | None: ...

    async def list(
        self,
        *,
        statuses: Sequence[OrderStatus] | None = None,
        instrument_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Order]:
        """Orders newest first, optionally filtered."""
        ...

    async def audit_trail(
        self, order_id: str
    ) -> builtins.list[tuple[OrderStatus | None, OrderStatus, int]]:
        """Every recorded transition of an order: (from, to, ts)."""
        ...

    async def net_filled(self, instrument_id: str, *, broker: str | None = None) -> Decimal:
        """Our own position: bought minus sold over the fills recorded for our orders.

        ``broker`` counts only orders placed at that venue: a paper run's shares on the
        same database are not shares held at a live broker.
        """
        ...

    async def net_filled_all(self, *, broker: str | None = None) -> dict[str, Decimal]:
        """``net_filled`` of every instrument with a recorded fill, in one read.

        What execution loads at start to size sells from memory, not a read per signal.
        """
        ...


class OutboxRepository(Protocol):
    """The events written by ``OrderRepository`` that still have to be published."""

    async def pending(self, limit: int = 1000) -> builtins.list[StoredOutboxMessage]:
        """Unpublished messages, oldest first."""
        ...

    async def mark_published(self, event_ids: Sequence[str], ts: int) -> int:
        """Record that these events reached the bus; returns how many rows changed."""
        ...

    async def purge_published(self, before_ts: int) -> int:
        """Delete rows published before ``before_ts``; returns how many."""
        ...


class FillRepository(Protocol):
    async def list(self, *, order_id: str | None = None) -> list[Fill]: ...


class PositionRepository(Protocol):
    async def upsert(self, position: Position) -> None: ...

    async def list(self, account: str = "default") -> list[Position]: ...


class TradingHaltStore(Protocol):
    """Durable trading halts, one per account; resumed only by an explicit call."""

    async def current(self, account: str) -> TradingHalt | None: ...

    async def halt(self, account: str, reason: str, ts: int) -> TradingHalt:
        """Halt ``account`` (or add ``reason`` to its halt); returns the halt as stored."""
        ...

    async def resume(self, account: str, *, by: str, reason: str, ts: int) -> TradingHalt | None:
        """End the halt, recording who and why; returns the halt that ended, if any."""
        ...


class StrategyRepository(Protocol):
    async def upsert(self, record: StrategyRecord) -> StrategyRecord:
        """Insert or update by name; returns the stored record (with its id)."""
        ...

    async def list(self) -> list[StrategyRecord]: ...


class BacktestRunRepository(Protocol):
    """Stored backtest runs, for ``jts backtest list`` and the dashboard."""

    async def add(self, run: BacktestRun) -> None: ...

    async def get(self, run_id: str) -> BacktestRun | None: ...

    async def list(self, *, limit: int | None = None) -> builtins.list[BacktestRun]:
        """Runs newest first."""
        ...


class BarJournal(Protocol):
    """Bars accepted but not yet in the ``BarStore``, written before anyone hears of them.

    The store takes bars in large batches; the journal makes each batch durable at
    once, so a crash between two store writes loses nothing that was published.
    ``seal`` closes the segment a flush is about to store; ``release`` drops the
    sealed segments once the store holds them.
    """

    def append(self, bars: Sequence[Bar]) -> None: ...

    def seal(self) -> int: ...

    def release(self, sealed: int) -> None: ...

    def pending(self) -> builtins.list[Bar]:
        """Every journalled bar not released yet, in the order written."""
        ...

    def close(self) -> None: ...


class BarStore(Protocol):
    """Time-series store of bars (ClickHouse ``market_data``: one-minute bars)."""

    async def write_bars(self, bars: Sequence[Bar]) -> int:
        """Store bars in batches; returns how many were new (duplicates are skipped)."""
        ...

    async def read_bars(
        self,
        instrument_id: str,
        start_ns: int,
        end_ns: int,
        timeframe: Timeframe = Timeframe.M1,
    ) -> list[Bar]:
        """Bars with ``start_ns <= ts < end_ns`` ordered by time, aggregated to ``timeframe``."""
        ...

    async def latest_bars(self, instrument_ids: Sequence[str] | None = None) -> dict[str, Bar]:
        """The most recent one-minute bar of each instrument."""
        ...

    async def instruments(self) -> list[str]:
        """Every instrument that has bars."""
        ...

    async def close(self) -> None: ...
