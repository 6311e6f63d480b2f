"""``jts serve market-data`` on KIS and on Creon: the broker's trades reach Kafka.

Real Kafka (scripts/kafka.sh), the real service process code, the KIS adapter
against the fake KIS server; read back by a plain consumer of the topic.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from fakes.creon_venue import SECRET as CREON_SECRET
from fakes.creon_venue import start_bridge
from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import CANO
from fakes.kis_venue import account_config
from jts.app.serve import serve
from jts.app.settings import Settings
from jts.brokers.creon.bridge.fake.market import FakeCreonMarket
from jts.core import topics
from kafka_tools import read_topic
from kafka_tools import unique_prefix
from waiting import eventually


def live_settings(tmp_path: Path, bootstrap: str, prefix: str, **sections: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        bus={
            "kind": "kafka",
            "kafka": {"bootstrap_servers": bootstrap, "topic_prefix": prefix, "partitions": 1},
        },
        serve={"market_data_port": 0},
        **sections,
    )


@asynccontextmanager
async def market_data_service(settings: Settings) -> AsyncIterator[None]:
    """``jts serve market-data``'s code in this process, ready; SIGTERM's path on exit."""
    stop = asyncio.Event()
    ready = asyncio.Event()
    running = asyncio.create_task(
        serve("market-data", settings, stop, on_ready=lambda *_: ready.set())
    )
    try:
        await asyncio.wait_for(ready.wait(), 60)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)


async def first_tick(bootstrap: str, prefix: str) -> dict[str, Any]:
    messages = await asyncio.to_thread(
        read_topic,
        bootstrap,
        prefix + topics.MARKET_TICKS,
        until=lambda got: len(got) >= 1,
        timeout=30,
    )
    tick: dict[str, Any] = json.loads(messages[0].value())["tick"]
    return tick


async def test_live_kis_trades_are_published_on_kafka(tmp_path: Path, kafka_bootstrap: str) -> None:
    prefix = unique_prefix()
    async with FakeKis(token_issue_interval_seconds=0.1) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(70_000))
        account = account_config(fake, symbols=("KRX:005930",))
        settings = live_settings(
            tmp_path,
            kafka_bootstrap,
            prefix,
            feed={"source": "kis", "backfill_sessions": 0},
            kis={
                "accounts": [account.model_dump()],
                "secrets": {"main": {"app_key": APP_KEY, "app_secret": APP_SECRET}},
                "token_dir": str(tmp_path / "tokens"),
            },
        )
        async with market_data_service(settings):
            await eventually(
                lambda: any(("H0STCNT0", "005930") in s for s in fake.ws_subscriptions.values()),
                within=20,
            )
            fake.set_price("005930", Decimal(70_100), volume=250)
            tick = await first_tick(kafka_bootstrap, prefix)
        assert tick["instrument_id"] == "KRX:005930"
        assert Decimal(tick["price"]) == Decimal(70_100)
        assert Decimal(tick["size"]) == Decimal(250)


async def test_live_creon_trades_are_published_on_kafka(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    prefix = unique_prefix()
    market = FakeCreonMarket()
    bridge = await start_bridge(market)
    settings = live_settings(
        tmp_path,
        kafka_bootstrap,
        prefix,
        feed={"source": "creon", "symbols": ["KRX:005930"], "backfill_sessions": 0},
        creon={"bridge_url": bridge.url, "secret": CREON_SECRET},
    )
    try:
        async with market_data_service(settings):
            await asyncio.sleep(1.5)  # the first quote round learns the volume to measure from
            market.set_price("A005930", Decimal(70_100))
            tick = await first_tick(kafka_bootstrap, prefix)
        assert tick["instrument_id"] == "KRX:005930"
        assert Decimal(tick["price"]) == Decimal(70_100)
    finally:
        await bridge.stop()
