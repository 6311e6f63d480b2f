"""Several KIS accounts covering one universe, each within its own budget and socket.

The roadmap's 1,800 symbols do not fit one app key (19 calls/s, 40 real-time
registrations), so accounts share them (``assignment.assign``). Each account's
breaker feeds the pool: when one opens, its symbols move to the others; a
prober calls the failed account every ``probe_interval`` and, once it answers,
the symbols move back. Health is also written to the shared board, which is
what ``jts brokers pool`` reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jts.brokers.common.assignment import Assignment
from jts.brokers.common.assignment import Slot
from jts.brokers.common.assignment import assign
from jts.brokers.common.breaker import BreakerState
from jts.brokers.common.health_board import HealthBoard
from jts.brokers.common.ratelimit import BudgetUsage
from jts.brokers.common.ratelimit import SqliteWindows
from jts.brokers.kis.config import KisSettings
from jts.brokers.kis.data import KisMarketData
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.session import BUDGETS_FILE
from jts.brokers.kis.session import KisSession
from jts.brokers.kis.session import open_session
from jts.domain.errors import BrokerError
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch

log = logging.getLogger("jts.brokers.kis.pool")

AssignmentListener = Callable[[Assignment], None]


@dataclass(frozen=True, slots=True)
class AccountStatus:
    name: str
    environment: str
    focus: str
    state: BreakerState
    symbols: int
    capacity: int
    streamed: int
    polled: int
    budget: BudgetUsage
    last_error: str | None


class KisAccountPool:
    def __init__(
        self,
        settings: KisSettings,
        *,
        state_dir: Path,
        probe_interval: float = 30.0,
        sessions: dict[str, KisSession] | None = None,
        socket_reserved_for: str | None = None,
    ) -> None:
        """``socket_reserved_for``: an account whose real-time socket another process uses.

        KIS allows one socket per app key; when order execution trades on an account
        (fill notices), market data polls that account's symbols instead of streaming.
        """
        if not settings.accounts:
            raise ConfigurationError("kis.accounts: no KIS account configured")
        self.settings = settings
        self.state_dir = state_dir
        self.windows = SqliteWindows(state_dir / BUDGETS_FILE)
        self.board = HealthBoard(state_dir / BUDGETS_FILE)
        self.sessions = sessions or {
            a.name: open_session(settings, a, state_dir=state_dir, windows=self.windows)
            for a in settings.accounts
        }
        self.universe = settings.full_universe()
        self._slots = [
            Slot(
                a.name,
                a.max_symbols,
                0 if a.name == socket_reserved_for else a.max_ws_registrations,
                settings.pinned(a),
                a.focus,
            )
            for a in settings.accounts
        ]
        if len(self.universe) > sum(s.capacity for s in self._slots):
            log.warning(
                "KIS pool: %d symbols but room for %d; the rest are not covered",
                len(self.universe),
                sum(s.capacity for s in self._slots),
            )
        self._listeners: list[AssignmentListener] = []
        self._probe_interval = probe_interval
        self._prober: asyncio.Task[None] | None = None
        for session in self.sessions.values():
            session.breaker.subscribe(self._on_breaker)
        self.assignment = assign(self.universe, self._slots, self.healthy())
        self.market: dict[str, KisMarketData] = {
            name: KisMarketData(
                s.rest,
                self.assignment.symbols.get(name, []),
                realtime=None if name == socket_reserved_for else s.realtime,
            )
            for name, s in self.sessions.items()
        }

    # -- health ------------------------------------------------------------------------

    def healthy(self) -> dict[str, bool]:
        return {name: s.breaker.state is not BreakerState.OPEN for name, s in self.sessions.items()}

    def on_assignment(self, listener: AssignmentListener) -> None:
        self._listeners.append(listener)

    def _on_breaker(self, guard_name: str, state: BreakerState, last_error: str | None) -> None:
        self.board.record(guard_name, state, last_error)
        if state is BreakerState.HALF_OPEN:
            return
        self.reassign()

    def reassign(self) -> Assignment:
        new = assign(self.universe, self._slots, self.healthy())
        if new.symbols == self.assignment.symbols:
            return self.assignment
        moved = len(new.moved)
        log.warning(
            "KIS pool reassigned: healthy %s, %d symbols moved off failed accounts",
            [n for n, ok in self.healthy().items() if ok],
            moved,
        )
        self.assignment = new
        for name, client in self.market.items():
            client.retarget(new.symbols.get(name, []))
        for listener in self._listeners:
            listener(new)
        return new

    async def _probe_loop(self) -> None:
        """Call failed accounts now and then; the breaker closes when one answers."""
        probe_symbol = self.universe[0] if self.universe else "KRX:005930"
        while True:
            await asyncio.sleep(self._probe_interval)
            for name, session in self.sessions.items():
                if session.breaker.state is BreakerState.CLOSED:
                    continue
                try:
                    await self.market[name].latest_price(probe_symbol)
                    log.info("KIS account %s answers again", name)
                except BrokerError as exc:
                    log.info("KIS account %s still failing: %s", name, exc)

    # -- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Every account must authenticate at start: a bad credential stops here."""
        # Each account's market client: its session (token) and its real-time callbacks.
        await asyncio.gather(*(client.connect() for client in self.market.values()))
        for session in self.sessions.values():
            self.board.record(session.guard.name, session.breaker.state, None)
        if self._prober is None:
            self._prober = asyncio.create_task(self._probe_loop(), name="kis-pool-probe")

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            await asyncio.gather(self._prober, return_exceptions=True)
            self._prober = None
        for name, session in self.sessions.items():
            await self.market[name].disconnect()
            if session.realtime is not None:
                await session.realtime.stop()
        self.windows.close()
        self.board.close()

    def execution(self, name: str | None = None) -> KisExecution:
        chosen = name or self.settings.trading_account or self.settings.accounts[0].name
        if chosen not in self.sessions:
            raise ConfigurationError(f"kis.trading_account: no account named {chosen!r}")
        session = self.sessions[chosen]
        return KisExecution(session.rest, state_dir=self.state_dir, realtime=session.realtime)

    def status(self, *, from_board: bool = False) -> list[AccountStatus]:
        """Per account: assignment, budget and health.

        ``from_board`` reads health as the running processes recorded it (for the
        CLI, whose own breakers have seen nothing) and assigns accordingly.
        """
        board = self.board.read() if from_board else {}
        states = {
            name: board[s.guard.name].state if s.guard.name in board else s.breaker.state
            for name, s in self.sessions.items()
        }
        errors = {
            name: board[s.guard.name].last_error if s.guard.name in board else s.breaker.last_error
            for name, s in self.sessions.items()
        }
        assignment = (
            assign(
                self.universe,
                self._slots,
                {n: st is not BreakerState.OPEN for n, st in states.items()},
            )
            if from_board
            else self.assignment
        )
        rows = []
        for slot in self._slots:
            session = self.sessions[slot.name]
            symbols = assignment.symbols.get(slot.name, [])
            streamed = len(assignment.streaming.get(slot.name, []))
            rows.append(
                AccountStatus(
                    name=slot.name,
                    environment=str(session.account.environment),
                    focus=slot.focus,
                    state=states[slot.name],
                    symbols=len(symbols),
                    capacity=slot.capacity,
                    streamed=streamed,
                    polled=len(symbols) - streamed,
                    budget=session.budget.usage(),
                    last_error=errors[slot.name],
                )
            )
        return rows

    def market_data(self) -> KisPoolMarketData:
        return KisPoolMarketData(self)


class KisPoolMarketData:
    """One ``MarketDataClient`` over the pool: requests go to the symbol's account."""

    def __init__(self, pool: KisAccountPool) -> None:
        self.venue = "kis"
        self.pool = pool

    async def connect(self) -> None:
        await self.pool.connect()

    async def disconnect(self) -> None:
        await self.pool.close()

    def _client_for(self, instrument_id: str) -> KisMarketData:
        owner = self.pool.assignment.account_of(instrument_id)
        healthy = [n for n, ok in self.pool.healthy().items() if ok]
        if owner is None:
            if not healthy:
                raise BrokerUnavailable("every KIS account is failing")
            owner = healthy[0]
        return self.pool.market[owner]

    async def instruments(self) -> list[Instrument]:
        found: list[Instrument] = []
        for client in self.pool.market.values():
            found.extend(await client.instruments())
        return found

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        return await self._client_for(instrument_id).latest_price(instrument_id)

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        return await self._client_for(instrument_id).historical_bars(
            instrument_id, start_ns, end_ns, timeframe
        )

    async def stream(self) -> AsyncIterator[MarketDataBatch]:
        queue: asyncio.Queue[MarketDataBatch] = asyncio.Queue(maxsize=10_000)

        async def pump(client: KisMarketData) -> None:
            async for batch in client.stream():
                await queue.put(batch)

        tasks = [asyncio.create_task(pump(c)) for c in self.pool.market.values()]
        try:
            while True:
                yield await queue.get()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
