"""The venue's account for sizing, read again only when something may have moved it.

Sizing asked the venue for its account on every signal: in process that is a dict
copy, but over HTTP (the paper venue service, a broker's API) it was a round trip
on the way from signal to order, and the largest part of it. Our buying power is
our own ledger (``buying_power.py``): the venue's cash and holdings move only with
fills, and its available cash caps ours only by what other orders reserve there.
So the state read is kept until a fill or a finished order of ours is reported,
reconciliation runs, or ``max_age`` seconds of wall time pass (deposits, orders
placed elsewhere); a read overtaken by such a report is used once, not kept.
"""

from __future__ import annotations

from jts.domain.reports import AccountState
from jts.ports import ExecutionClient
from jts.ports import WallClock

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
        self.reads = 0

    async def state(self) -> AccountState:
        """The account as last read, or read now when it may have moved since."""
        now = self._clock.timestamp_ns()
        if self._state is not None and now - self._read_ns < self._max_age_ns:
            return self._state
        before = self._moves
        state = await self._client.account()
        self.reads += 1
        if self._moves == before:
            self._state, self._read_ns = state, now
        return state

    def moved(self) -> None:
        """Cash or holdings at the venue may have changed: read again before sizing."""
        self._moves += 1
        self._state = None
