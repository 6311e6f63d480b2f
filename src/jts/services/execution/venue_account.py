"""The venue's account for sizing, read again only when something may have moved it.

Sizing asked the venue for its account on every signal: in process that is a dict
copy, but over HTTP (the paper venue service, a broker's API) it was a round trip
on the way from signal to order, and the largest part of it. Our buying power is
our own ledger (``buying_power.py``): the venue's cash and holdings move only with
fills, and its available cash caps ours only by what other orders reserve there.
So the state read is kept until a fill or a finished order of ours is reported,
reconciliation runs, or ``max_age`` seconds of wall time pass (deposits, orders
placed elsewhere); a read overtaken by such a report is used once, not kept.

Fills come as often as signals, so a report that moves the account also starts the
next read at once, in the background: the signal after it usually finds the state
read already (or waits only for the rest of that read), not a whole round trip.
"""

from __future__ import annotations

import asyncio
import logging

from jts.domain.reports import AccountState
from jts.ports import ExecutionClient
from jts.ports import WallClock

log = logging.getLogger("jts.execution")

MAX_AGE_SECONDS = 1.0


class VenueAccount:
    def __init__(
        self, client: ExecutionClient, clock: WallClock, max_age: float = MAX_AGE_SECONDS
    ) -> None:
        self._client = client
        self._clock = clock
        self._max_age_ns = int(max_age * 1e9)
        self._state: AccountState | None = None
        self._read_ns = 0
        # Moves counted: a read that saw the count change is not kept.
        self._moves = 0
        self._refresh: asyncio.Task[None] | None = None
        self.reads = 0

    async def state(self) -> AccountState:
        """The account as last read, or read now when it may have moved since."""
        if self._state is not None and self._fresh():
            return self._state
        refresh = self._refresh
        if refresh is not None and not refresh.done():
            await asyncio.shield(refresh)  # never raises: failures are left to our own read
            if self._state is not None:
                return self._state  # read after the last move: current
        return await self._read()

    def moved(self) -> None:
        """Cash or holdings at the venue may have changed: read again, starting now."""
        self._moves += 1
        self._state = None
        self._refresh = asyncio.get_running_loop().create_task(self._prefetch())

    async def close(self) -> None:
        refresh, self._refresh = self._refresh, None
        if refresh is not None:
            refresh.cancel()
            await asyncio.gather(refresh, return_exceptions=True)

    def _fresh(self) -> bool:
        return self._clock.timestamp_ns() - self._read_ns < self._max_age_ns

    async def _read(self) -> AccountState:
        before, now = self._moves, self._clock.timestamp_ns()
        state = await self._client.account()
        self.reads += 1
        if self._moves == before:
            self._state, self._read_ns = state, now
        return state

    async def _prefetch(self) -> None:
        try:
            await self._read()
        except Exception as exc:  # the next signal reads for itself and sees the error
            log.debug("venue account not read ahead: %s", exc)
