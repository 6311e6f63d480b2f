"""The bridge client: the secret, the account check, one client shared by both ports."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fakes.creon_venue import creon_venue
from jts.brokers.creon.config import CreonConfig
from jts.brokers.creon.factory import build_creon
from jts.brokers.creon.http import BridgeClient
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import ConfigurationError


async def test_wrong_secret_is_authentication_failed(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as harness:
        intruder = BridgeClient(harness.server.url, "wrong", account=harness.market_state.account)
        with pytest.raises(AuthenticationFailed):
            await intruder.open()
        assert not intruder.is_open


async def test_another_account_than_the_bridges_is_refused(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as harness:
        config = harness.config().model_copy(update={"account": "999999999"})
        venue = build_creon(config, state_dir=None)
        with pytest.raises(ConfigurationError, match="not 999999999"):
            await venue.execution.connect()
        assert not venue.bridge.is_open


async def test_both_ports_share_one_client_until_the_last_disconnects(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as harness:
        venue = build_creon(harness.config().model_copy(update={"account": ""}), state_dir=None)
        await venue.data.connect()
        await venue.execution.connect()
        await venue.execution.connect()  # a second connect takes no second use
        assert venue.execution.account_no == harness.market_state.account  # the bridge's
        assert venue.execution.guard is venue.bridge.guard
        await venue.execution.disconnect()
        assert venue.bridge.is_open
        assert await venue.data.latest_price("KRX:005930") is not None
        await venue.data.disconnect()
        assert not venue.bridge.is_open


async def test_look_ups_wait_longer_than_orders() -> None:
    """A look-up may span budget windows at the bridge; an order is answered at once."""
    seen: dict[str, httpx.Timeout] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen[request.method] = httpx.Timeout(**request.extensions["timeout"])
        if request.method == "GET":
            return httpx.Response(200, json={"code": "A005930", "timeframe": "1m", "bars": []})
        return httpx.Response(200, json={"order_no": "1", "cancel_order_no": "2", "quantity": 1})

    from jts.brokers.creon.schemas import BarsOut
    from jts.brokers.creon.schemas import CancelOut

    bridge = BridgeClient("http://bridge", "s", account="1", timeout=3.0, lookup_timeout=80.0)
    bridge._http = httpx.AsyncClient(
        base_url="http://bridge", transport=httpx.MockTransport(answer), timeout=3.0
    )
    await bridge.get(BarsOut, "/bars/A005930")
    await bridge.act(CancelOut, "DELETE", "/orders/1")
    await bridge.close()
    assert seen["GET"].read == 80.0 and seen["GET"].connect == 3.0
    assert seen["DELETE"].read == 3.0


def test_the_look_up_timeout_covers_the_bridges_paging() -> None:
    assert CreonConfig().lookup_timeout >= 75
    with pytest.raises(ValueError, match="75"):
        CreonConfig(lookup_timeout=30)
