"""``/health`` of a ``jts serve`` process: live (the loop answers) and ready (its links work).

Served by uvicorn inside the service's own event loop, so a blocked loop shows as
a failed probe. uvicorn would take over SIGINT/SIGTERM; the process's own
shutdown owns them instead, and stops this server last.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from jts.domain.errors import ConfigurationError

# A check returns None when fine, or what is wrong.
Check = Callable[[], Awaitable[str | None]]
Stats = Callable[[], Mapping[str, Any]]

_CHECK_TIMEOUT = 3.0


def health_api(service: str, checks: Mapping[str, Check], stats: Stats | None = None) -> FastAPI:
    api = FastAPI(title=f"jts {service}", docs_url=None, redoc_url=None, openapi_url=None)
    started = time.monotonic()

    async def readiness() -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(*(_run(check) for check in checks.values()))
        report = {name: problem or "ok" for name, problem in zip(checks, results, strict=True)}
        return all(problem is None for problem in results), report

    @api.get("/health/live")
    async def live() -> dict[str, Any]:
        return {"service": service, "live": True, "uptime_s": round(time.monotonic() - started)}

    @api.get("/health/ready")
    async def ready() -> JSONResponse:
        ok, report = await readiness()
        body = {"service": service, "ready": ok, "checks": report}
        return JSONResponse(body, status_code=200 if ok else 503)

    @api.get("/health")
    async def health() -> JSONResponse:
        ok, report = await readiness()
        body: dict[str, Any] = {
            "service": service,
            "live": True,
            "ready": ok,
            "checks": report,
            "uptime_s": round(time.monotonic() - started),
        }
        if stats is not None:
            body["stats"] = dict(stats())
        return JSONResponse(body, status_code=200 if ok else 503)

    return api


async def _run(check: Check) -> str | None:
    try:
        return await asyncio.wait_for(check(), _CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {_CHECK_TIMEOUT:.0f} s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals belong to the service process, not to its health endpoint


class HealthServer:
    def __init__(self, api: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(api, host=host, port=port, log_config=None, access_log=False)
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None
        self.host = host

    @property
    def port(self) -> int:
        """The bound port (useful when 0 asked for any free one)."""
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise ConfigurationError("health server is not listening")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="health-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start (port in use...)
                raise ConfigurationError("health server stopped while starting")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
