"""`jts serve order-execution` trading on KIS, as its own OS process over real Kafka.

A signal published on Kafka becomes an order at the fake KIS server (its REST and
WebSocket protocol), the venue's acceptance and fill come back through the
adapter, and the order's events leave on `orders.events`, read by a plain
consumer. The fake runs in this test's event loop; the service is a child process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal as signals
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import CANO
from fakes.kis_venue import HTS_ID
from jts.core import topics
from jts.core.clocks import LiveClock
from jts.core.codec import encode_event
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.domain.signals import Signal
from kafka_tools import produce_raw
from kafka_tools import read_topic
from kafka_tools import unique_prefix
from sockets import Port
from waiting import eventually


@pytest.fixture
def health_port() -> Iterator[int]:
    """The service binds the port from its settings; the test holds it until then."""
    with Port() as port:
        yield port.number


async def test_a_signal_on_kafka_trades_on_kis(
    tmp_path: Path, kafka_bootstrap: str, health_port: int
) -> None:
    prefix = unique_prefix()
    port = health_port
    async with FakeKis(token_issue_interval_seconds=0.1) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO, hts_id=HTS_ID)
        fake.set_price("005930", Decimal(70_000))
        config = tmp_path / "jts.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n'
            '[bus]\nkind = "kafka"\n'
            f'[bus.kafka]\nbootstrap_servers = "{kafka_bootstrap}"\n'
            f'topic_prefix = "{prefix}"\npartitions = 1\n'
            '[feed]\nsource = "kis"\n'
            '[execution]\nvenue = "kis"\nnotional_per_order = "700000"\n'
            f"[serve]\norder_execution_port = {port}\nreconcile_interval = 2\n"
            '[kis]\nuniverse = ["KRX:005930"]\n'
            f'[[kis.accounts]]\nname = "main"\naccount = "{CANO}-01"\nenvironment = "real"\n'
            f'hts_id = "{HTS_ID}"\nrest_url = "{fake.rest_url}"\nws_url = "{fake.ws_url}"\n'
        )
        env = {
            **os.environ,
            "JTS_CONFIG_FILE": str(config),
            "JTS_KIS__SECRETS__MAIN__APP_KEY": APP_KEY,
            "JTS_KIS__SECRETS__MAIN__APP_SECRET": APP_SECRET,
        }
        log = (tmp_path / "order-execution.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jts",
            "serve",
            "order-execution",
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with httpx.AsyncClient() as http:

                async def ready() -> bool:
                    try:
                        answer = await http.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    except httpx.HTTPError:
                        return False
                    return answer.status_code == 200

                for _ in range(240):
                    if proc.returncode is not None or await ready():
                        break
                    await asyncio.sleep(0.25)
                assert await ready(), (tmp_path / "order-execution.log").read_text()

            clock = LiveClock()
            signal = Signal(
                "sma",
                "KRX:005930",
                Side.BUY,
                clock.timestamp_ns(),
                Decimal(70_000),
                reason="test",
                signal_id=str(uuid.uuid4()),
            )
            event = SignalEvent.from_signal(signal, ts=clock.timestamp_ns(), source="test")
            await asyncio.to_thread(
                produce_raw,
                kafka_bootstrap,
                prefix + topics.SIGNALS,
                b"KRX:005930",
                encode_event(event),
            )
            await eventually(lambda: len(fake.orders) == 1, within=30)
            order = fake.orders[0]
            # 700,000 KRW at a limit one tick above the signal's price: 9 shares at 70,100.
            assert (order.code, order.side, order.qty, order.price) == ("005930", "02", 9, 70_100)
            fake.set_price("005930", Decimal(69_000))
            events = await asyncio.to_thread(
                read_topic,
                kafka_bootstrap,
                prefix + topics.ORDERS_EVENTS,
                until=lambda got: "FILLED" in [json.loads(m.value())["status"] for m in got],
                timeout=30,
            )
            statuses = [json.loads(m.value())["status"] for m in events]
            assert statuses[:2] == ["NEW", "SUBMITTED"]
            assert "ACCEPTED" in statuses and statuses[-1] == "FILLED"
            assert len(fake.orders) == 1
        finally:
            if proc.returncode is None:
                proc.send_signal(signals.SIGTERM)
                await asyncio.wait_for(proc.wait(), 60)
            log.close()
        assert proc.returncode == 0
