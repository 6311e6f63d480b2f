"""/health of a served process: live/ready only; checks and counters on /status, with the token."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from jts.app.health import HealthServer
from jts.app.health import health_api
from jts.domain.errors import ConfigurationError

TOKEN = secrets.token_urlsafe(32)


async def test_ready_reports_each_check_and_turns_503_when_one_fails() -> None:
    state = {"bus": None}

    async def bus() -> str | None:
        return state["bus"]

    async def sql() -> str | None:
        return None

    async def stuck() -> str | None:
        raise ConnectionError("database refused")

    api = health_api(
        "order-execution", {"bus": bus, "sql": sql}, stats=lambda: {"orders": 3}, token=TOKEN
    )
    server = HealthServer(api, "127.0.0.1", 0)
    await server.start()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            ok = await http.get("/health")
            assert ok.status_code == 200
            body = ok.json()
            assert body["ready"] and body["live"] and body["failing"] == []
            status = (await http.get("/status", headers=auth)).json()
            assert status["checks"] == {"bus": "ok", "sql": "ok"}
            assert status["stats"] == {"orders": 3}

            state["bus"] = "no Kafka broker answers"
            down = await http.get("/health/ready")
            assert down.status_code == 503
            assert down.json()["failing"] == ["bus"]
            detail = (await http.get("/status", headers=auth)).json()
            assert detail["checks"]["bus"] == "no Kafka broker answers"
            assert (await http.get("/health/live")).status_code == 200
    finally:
        await server.stop()

    broken = HealthServer(health_api("x", {"db": stuck}, token=TOKEN), "127.0.0.1", 0)
    await broken.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{broken.port}") as http:
            answer = await http.get("/health")
            assert answer.status_code == 503
            status = await http.get("/status", headers=auth)
        assert status.json()["checks"]["db"] == "ConnectionError: database refused"
    finally:
        await broken.stop()
    await asyncio.sleep(0)


async def test_health_shows_no_cash_positions_or_counts_and_status_needs_the_token() -> None:
    account = {"cash": "123456789", "positions": {"KRX:005930": "55"}}
    api = health_api("portfolio", {}, stats=lambda: account, token=TOKEN)
    server = HealthServer(api, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            for path in ("/health", "/health/live", "/health/ready"):
                answer = await http.get(path)
                assert answer.status_code == 200
                assert set(answer.json()) <= {"service", "live", "ready", "failing"}, path
                assert "123456789" not in answer.text and "005930" not in answer.text
            assert (await http.get("/status")).status_code == 401
            wrong = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
            assert (await http.get("/status", headers=wrong)).status_code == 401
            right = await http.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
            assert right.json()["stats"] == account
            assert (await http.get("/openapi.json")).status_code == 404
    finally:
        await server.stop()


def test_status_cannot_be_served_without_a_token() -> None:
    with pytest.raises(ConfigurationError):
        health_api("portfolio", {}, token="")
