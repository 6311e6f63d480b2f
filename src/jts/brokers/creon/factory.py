"""Both Creon ports for one account, built from ``CreonConfig`` over one bridge client.

The market data and the execution client share the bridge client, so they share
one rate budget and one circuit breaker: Creon counts the account's requests,
not the port's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.creon.config import CreonConfig
from jts.brokers.creon.data import CreonMarketData
from jts.brokers.creon.execution import CreonExecution
from jts.brokers.creon.http import BridgeClient
from jts.sim.fees import FeeSchedule


@dataclass(frozen=True, slots=True)
class CreonVenue:
    bridge: BridgeClient
    data: CreonMarketData
    execution: CreonExecution


def journal_path(config: CreonConfig, state_dir: Path) -> Path:
    """Where the account's order intents are journaled."""
    return state_dir / f"creon-{config.account or 'default'}-intents.jsonl"


def build_creon(
    config: CreonConfig,
    *,
    state_dir: Path | None,
    journal: Path | None = None,
    watch: Sequence[str] = (),
    quote_interval: float = 1.0,
    after_seq: int = 0,
    fees: FeeSchedule | None = None,
    budget: RateBudget | None = None,
    clock: Callable[[], int] = time.time_ns,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> CreonVenue:
    """The secret is resolved here, so a missing one stops the process at start.

    The intent journal is ``journal``, else the account's file in ``state_dir``;
    with neither it is kept in memory (a market data process that never trades).
    Without a configured account, the bridge's (the one signed on in Creon) is used.
    """
    bridge = BridgeClient(
        config.bridge_url,
        config.shared_secret(),
        account=config.account,
        budget=budget,
        timeout=config.request_timeout,
        lookup_timeout=config.lookup_timeout,
        sleep=sleep,
    )
    data = CreonMarketData(
        bridge, watch=watch, quote_interval=quote_interval, clock=clock, sleep=sleep
    )
    execution = CreonExecution(
        bridge,
        journal_path=journal or (None if state_dir is None else journal_path(config, state_dir)),
        poll_wait=config.poll_wait,
        after_seq=after_seq,
        fees=fees,
        clock=clock,
        sleep=sleep,
    )
    return CreonVenue(bridge, data, execution)
