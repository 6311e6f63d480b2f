"""``StorageRetry.call``: a first try outside the loop, then the loop through an outage."""

from __future__ import annotations

import pytest

from jts.core.storage_retry import StorageRetry
from jts.domain.errors import StorageError
from jts.domain.errors import StorageUnavailable

FAST = StorageRetry(give_up_after=1.0, initial_wait=0.001, max_wait=0.002)


async def test_a_call_that_succeeds_runs_once() -> None:
    calls: list[int] = []

    async def action() -> str:
        calls.append(1)
        return "stored"

    assert await FAST.call("storing", action) == "stored"
    assert len(calls) == 1


async def test_an_outage_is_waited_out_until_the_store_answers() -> None:
    calls: list[int] = []

    async def action() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StorageUnavailable("database is locked")
        return "stored"

    assert await FAST.call("storing", action) == "stored"
    assert len(calls) == 3


async def test_a_refusal_is_not_retried() -> None:
    calls: list[int] = []

    async def action() -> str:
        calls.append(1)
        raise StorageError("duplicate key")

    with pytest.raises(StorageError, match="duplicate"):
        await FAST.call("storing", action)
    assert len(calls) == 1


async def test_a_lasting_outage_gives_up_with_the_last_error() -> None:
    retry = StorageRetry(give_up_after=0.05, initial_wait=0.001, max_wait=0.005)

    async def action() -> str:
        raise StorageUnavailable("unreachable")

    with pytest.raises(StorageUnavailable, match="unreachable"):
        await retry.call("storing", action)
