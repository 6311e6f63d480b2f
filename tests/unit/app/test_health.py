"""/health of a served process: live always, ready only when every check passes."""

from __future__ import annotations

import asyncio

import httpx

from jts.app.health import HealthServer
from jts.app.health import health_api


async def test_ready_reports_each_check_and_turns_503_when_one_fails() -> None:
    state = {"bus": None}

    async def bus() -> str | None:
        return state["bus"]

    async def sql() -> str | None:
        return None

    async def stuck() -> str | None:
        raise ConnectionError("database refused")

    api = health_api("order-execution", {"bus": bus, "sql": sql}, stats=lambda: {"orders": 3})
    server = HealthServer(api, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            ok = await http.get("/health")
            assert ok.status_code == 200
            body = ok.json()
            assert body["ready"] and body["live"]
            assert body["checks"] == {"bus": "ok", "sql": "ok"}
            assert body["stats"] == {"orders": 3}

            state["bus"] = "no Kafka broker answers"
            down = await http.get("/health/ready")
            assert down.status_code == 503
            assert down.json()["checks"]["bus"] == "no Kafka broker answers"
            assert (await http.get("/health/live")).status_code == 200
    finally:
        await server.stop()

    broken = HealthServer(health_api("x", {"db": stuck}), "127.0.0.1", 0)
    await broken.start()
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{broken.port}/health")
        assert answer.status_code == 503
        assert answer.json()["checks"]["db"] == "ConnectionError: database refused"
    finally:
        await broken.stop()
    await asyncio.sleep(0)
