"""``/health`` of a ``jts serve`` process: live (the loop answers) and ready (its links work).

``/status`` adds each check's detail and the service's counters (cash and
positions for the portfolio), behind the service token (``jts.app.tokens``).

Served by uvicorn inside the service's own event loop, so a blocked loop shows as
a failed probe. uvicorn would take over SIGINT/SIGTERM; the process's own
shutdown owns them instead, and stops this server last.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from typing import Annotated
from typing import Any

import uvicorn
from fastapi import Depends
from fastapi import FastAPI
from fastapi import Header
from fastapi import HTTPException
from fastapi.responses import JSONResponse

from jts.domain.errors import ConfigurationError

# A check returns None when fine, or what is wrong.
Check = Callable[[], Awaitable[str | None]]
Stats = Callable[[], Mapping[str, Any]]

_CHECK_TIMEOUT = 3.0


def health_api(
    service: str, checks: Mapping[str, Check], stats: Stats | None = None, *, token: str
) -> FastAPI:
    """Open probes that say live/ready only, and ``/status`` (checks, counters) behind ``token``.

    ``/health`` is for load balancers and orchestrators and may be reachable by
    anyone who can reach the port, so it names failing checks and nothing else;
    cash, positions and counts are the account's business and need the token.
    """
    if not token:
        raise ConfigurationError(f"{service}: /status needs a service token")
    api = FastAPI(title=f"jts {service}", docs_url=None, redoc_url=None, openapi_url=None)
    started = time.monotonic()
    expected = token.encode()

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            raise HTTPException(
                401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"}
            )

    async def readiness() -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(*(_run(check) for check in checks.values()))
        report = {name: problem or "ok" for name, problem in zip(checks, results, strict=True)}
        return all(problem is None for problem in results), report

    async def probe() -> JSONResponse:
        ok, report = await readiness()
        failing = sorted(name for name, result in report.items() if result != "ok")
        body = {"service": service, "live": True, "ready": ok, "failing": failing}
        return JSONResponse(body, status_code=200 if ok else 503)

    @api.get("/health/live")
    async def live() -> dict[str, Any]:
        return {"service": service, "live": True}

    api.add_api_route("/health/ready", probe, methods=["GET"])
    api.add_api_route("/health", probe, methods=["GET"])

    @api.get("/status", dependencies=[Depends(authorised)])
    async def status() -> dict[str, Any]:
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
        return body

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
