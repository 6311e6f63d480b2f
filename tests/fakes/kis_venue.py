"""KIS adapters wired to the fake KIS server, for the adapter tests and the contract suite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from fakes.kis_server import FakeKis
from jts.brokers.kis.config import KisAccountConfig
from jts.brokers.kis.config import KisSecret
from jts.brokers.kis.config import KisSettings
from jts.brokers.kis.data import KisMarketData
from jts.brokers.kis.environments import KisEnvironment
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.parsing import SEOUL
from jts.brokers.kis.parsing import kst_ns
from jts.brokers.kis.session import KisSession
from jts.brokers.kis.session import open_session
from jts.domain.enums import TimeInForce
from jts.domain.reports import MarketDataBatch
from jts.domain.ticks import TickRule

APP_KEY = "PSfakeAppKey0123456789abcdefghijklmn"  # 36 characters, like KIS's
APP_SECRET = "fakeSecret/" + "x" * 169  # 180 characters
CANO = "50000001"
HTS_ID = "jtsuser"
SAMSUNG = "KRX:005930"


def account_config(
    fake: FakeKis, *, name: str = "main", paper: bool = False, **extra: Any
) -> KisAccountConfig:
    return KisAccountConfig(
        name=name,
        environment=KisEnvironment.PAPER if paper else KisEnvironment.REAL,
        account=f"{extra.pop('cano', CANO)}-01",
        hts_id=HTS_ID,
        rest_url=fake.rest_url,
        ws_url=fake.ws_url,
        **extra,
    )


def kis_settings(
    accounts: list[KisAccountConfig],
    tmp_path: Path,
    secrets: dict[str, tuple[str, str]] | None = None,
    **extra: Any,
) -> KisSettings:
    secrets = secrets or {a.name: (APP_KEY, APP_SECRET) for a in accounts}
    return KisSettings(
        accounts=tuple(accounts),
        secrets={
            name: KisSecret(app_key=SecretStr(k), app_secret=SecretStr(s))
            for name, (k, s) in secrets.items()
        },
        token_dir=tmp_path / "tokens",
        token_issue_interval=extra.pop("token_issue_interval", 0.0),
        request_timeout=extra.pop("request_timeout", 5.0),
        **extra,
    )


@dataclass
class KisHarness:
    fake: FakeKis
    settings: KisSettings
    state_dir: Path
    session: KisSession
    market: KisMarketData
    execution: KisExecution
    instrument_id: str = SAMSUNG
    clients: list[KisExecution] = field(default_factory=list)
    streamed: list[MarketDataBatch] = field(default_factory=list)
    # KIS keeps no order past the day (ORD_DVSN has DAY and IOC kinds only).
    unsupported_time_in_force: frozenset[TimeInForce] = frozenset({TimeInForce.GTC})

    async def set_price(self, price: Decimal) -> None:
        self.fake.set_price(self.instrument_id.split(":")[1], price, volume=100)

    async def trade(self, price: Decimal, quantity: Decimal) -> None:
        self.fake.trade(self.instrument_id.split(":")[1], price, int(quantity))

    def tick(self) -> Decimal:
        return TickRule.krx_stock().tick_at(Decimal(70_000))

    async def seed_history(self) -> tuple[int, int]:
        day = datetime.now(SEOUL).strftime("%Y%m%d")
        rows = []
        for minute in range(10):
            p = Decimal(70_000 + 100 * minute)
            rows.append((day, f"09{minute:02d}00", p, p + 100, p - 100, p, 1_000))
        self.fake.add_minute_bars("005930", rows)
        return kst_ns(day, "090000"), kst_ns(day, "091000")

    def venue_order_count(self) -> int:
        return len(self.fake.orders)

    async def new_execution_client(self, *, notices: bool = True) -> KisExecution:
        """A restarted order execution: fresh session and client, same state directory.

        ``notices=False`` leaves out the real-time socket, so only inquiries report.
        """
        session = open_session(self.settings, self.settings.accounts[0], state_dir=self.state_dir)
        client = KisExecution(
            session.rest,
            state_dir=self.state_dir,
            realtime=session.realtime if notices else None,
            poll_interval=0.2,
        )
        await client.connect()
        self.clients.append(client)
        return client


@asynccontextmanager
async def kis_venue(
    tmp_path: Path,
    *,
    paper: bool = False,
    poll_interval: float | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> AsyncIterator[KisHarness]:
    # Inquiry polling: fast for tests that wait on fills; paper allows 2 calls a second,
    # so there the poll loop must not starve the test's own calls.
    poll = poll_interval if poll_interval is not None else (2.0 if paper else 0.2)
    async with FakeKis(paper=paper, ping_interval=0.5, token_issue_interval_seconds=0.1) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO, hts_id=HTS_ID)
        fake.set_price("005930", Decimal(70_000))
        settings = kis_settings(
            [account_config(fake, paper=paper)], tmp_path, token_issue_interval=0.15
        )
        state_dir = tmp_path / "state"
        session = open_session(settings, settings.accounts[0], state_dir=state_dir)
        market = KisMarketData(session.rest, [SAMSUNG], realtime=session.realtime)
        execution = KisExecution(
            session.rest,
            state_dir=state_dir,
            realtime=session.realtime,
            poll_interval=poll,
            clock=clock,
        )
        await execution.connect()
        await market.connect()
        harness = KisHarness(fake, settings, state_dir, session, market, execution)

        async def consume() -> None:
            async for batch in market.stream():
                harness.streamed.append(batch)

        streaming = asyncio.create_task(consume())
        assert session.realtime is not None
        await asyncio.wait_for(session.realtime.connected.wait(), 5)
        try:
            yield harness
        finally:
            streaming.cancel()
            await asyncio.gather(streaming, return_exceptions=True)
            for client in harness.clients:
                await client.disconnect()
            await execution.disconnect()


def kis_paper_venue(tmp_path: Path) -> AbstractAsyncContextManager[KisHarness]:
    """KIS in paper (모의투자) mode: V tr_ids, 2 calls a second, small pages."""
    return kis_venue(tmp_path, paper=True)
