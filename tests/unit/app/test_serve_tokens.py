"""`jts serve` without a token set: the venue makes one, its client finds it, outsiders fail."""

from __future__ import annotations

import asyncio
import os
import stat
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from jts.app.health import HealthServer
from jts.app.processes import build_process
from jts.app.serve import serve
from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.app.tokens import token_path
from jts.app.tokens import venue_client_token
from jts.brokers.paper.remote import RemotePaperExecutionClient
from jts.brokers.paper.schemas import OrderIn
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.orders import Order


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(tmp_path: Path, kafka_bootstrap: str, **serve: object) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        bus={"kind": "kafka", "kafka": {"bootstrap_servers": kafka_bootstrap}},
        serve=serve,
    )


async def test_the_venue_generates_a_token_its_client_reads_and_the_old_default_is_refused(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    venue_settings = settings(tmp_path, kafka_bootstrap)
    process = await build_process("paper-venue", venue_settings)
    path = token_path(venue_settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert process.api is not None
    server = HealthServer(process.api, "127.0.0.1", 0)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        outsider = Order(
            "KRX:005930",
            Side.BUY,
            OrderType.LIMIT,
            Decimal(55),
            Decimal(70_000),
            0,
            "paper",
            client_order_id="X1",
        )
        body = OrderIn.of(outsider).model_dump(mode="json")
        headers = {"Authorization": "Bearer jts-paper-venue"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as http:
            assert (await http.post("/orders", json=body)).status_code == 401
            assert (await http.delete("/orders/X1")).status_code == 401
            assert (await http.get("/account")).status_code == 401
        # Order execution on this host: same data folder, nothing configured.
        client_settings = settings(tmp_path, kafka_bootstrap, paper_venue_url=url)
        client = RemotePaperExecutionClient(url, venue_client_token(client_settings), poll_wait=0.2)
        client.set_report_handler(_ignore)
        await client.connect()
        try:
            assert (await client.account()).cash == Decimal(100_000_000)  # the default
        finally:
            await client.disconnect()
    finally:
        await server.stop()


async def test_a_venue_on_every_interface_without_an_explicit_token_does_not_start(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    stop = asyncio.Event()
    stop.set()
    exposed = settings(tmp_path, kafka_bootstrap, host="0.0.0.0", paper_venue_port=0)
    with pytest.raises(ConfigurationError, match="beyond this machine"):
        await asyncio.wait_for(serve("paper-venue", exposed, stop), 30)
    assert not token_path(exposed).exists()


async def _ignore(report: object) -> None:
    return None
