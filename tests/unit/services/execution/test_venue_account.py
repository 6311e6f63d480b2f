"""Sizing reads the venue account once, and again only after something may have moved it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from typing import cast

from jts.domain.reports import AccountState
from jts.ports import ExecutionClient
from jts.services.execution.venue_account import VenueAccount


class Wall:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def timestamp_ns(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


class CountingVenue:
    def __init__(self) -> None:
        self.reads = 0
        self.cash = Decimal(1_000_000)
        self.during_read: Any = None

    async def account(self) -> AccountState:
        self.reads += 1
        state = AccountState("paper", "KRW", self.cash, Decimal(0))
        if self.during_read is not None:
            self.during_read()
            await asyncio.sleep(0)
        return state


def _account(venue: CountingVenue, wall: Wall) -> VenueAccount:
    return VenueAccount(cast(ExecutionClient, venue), cast(Any, wall), max_age=1.0)


async def test_read_once_until_moved() -> None:
    venue, wall = CountingVenue(), Wall()
    account = _account(venue, wall)
    assert (await account.state()).cash == 1_000_000
    assert (await account.state()).cash == 1_000_000
    assert venue.reads == 1
    venue.cash = Decimal(900_000)
    account.moved()
    assert (await account.state()).cash == 900_000
    assert venue.reads == 2


async def test_read_again_after_max_age() -> None:
    venue, wall = CountingVenue(), Wall()
    account = _account(venue, wall)
    await account.state()
    wall.now += 999_000_000
    await account.state()
    assert venue.reads == 1
    wall.now += 2_000_000
    venue.cash = Decimal(5)
    assert (await account.state()).cash == 5
    assert venue.reads == 2


async def test_read_overtaken_by_a_move_is_not_kept() -> None:
    venue, wall = CountingVenue(), Wall()
    account = _account(venue, wall)

    def fill_reported() -> None:  # once, while the first read is on its way
        venue.during_read = None
        venue.cash = Decimal(3)
        account.moved()

    venue.during_read = fill_reported
    assert (await account.state()).cash == 1_000_000  # used once, as read
    # Not kept: the state now comes from the read the move started, after the fill.
    assert (await account.state()).cash == 3
    assert venue.reads == 2
    await account.close()


async def test_a_move_starts_the_next_read_at_once() -> None:
    venue, wall = CountingVenue(), Wall()
    account = _account(venue, wall)
    await account.state()
    venue.cash = Decimal(7)
    account.moved()
    await asyncio.sleep(0)  # the read ahead runs
    assert venue.reads == 2
    assert (await account.state()).cash == 7
    assert venue.reads == 2
    await account.close()


async def test_a_failed_read_ahead_leaves_the_read_to_the_signal() -> None:
    venue, wall = CountingVenue(), Wall()
    account = _account(venue, wall)
    failing = True

    def fail() -> None:
        if failing:
            raise ConnectionError("venue away")

    venue.during_read = fail
    account.moved()
    await asyncio.sleep(0)
    failing = False
    assert (await account.state()).cash == 1_000_000
    assert venue.reads == 2
    await account.close()
