"""Running one service as a long-lived process: start, serve ``/health``, stop cleanly.

Start order: the bus's topics and producer, then the service's components, then
its consumers begin, then the health endpoint. Stop order on SIGTERM: the health
endpoint says not ready, consumers finish the events in hand and commit, the
components stop (flushing what they buffer), the producer delivers what it
holds, stores close. An event taken but not finished is not committed, so the
next owner of its partition handles it: nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from jts.app.health import HealthServer
from jts.app.health import health_api
from jts.app.processes import build_process
from jts.app.service_process import ServiceProcess
from jts.app.settings import Settings
from jts.app.tokens import check_listen_address
from jts.app.tokens import service_token

log = logging.getLogger("jts.serve")

ReadyCallback = Callable[[ServiceProcess, int], None]


async def serve(
    service: str,
    settings: Settings,
    stop: asyncio.Event,
    *,
    sessions: int | None = None,
    on_ready: ReadyCallback | None = None,
) -> None:
    """Run ``service`` until ``stop`` is set."""
    check_listen_address(settings, service)
    token = service_token(settings)
    process = await build_process(service, settings, sessions=sessions)
    api = process.api or health_api(process.name, process.checks, process.stats, token=token)
    if process.api is not None:
        _add_health(process, token)
    health = HealthServer(api, settings.serve.host, settings.serve.port_of(service))
    started: list[object] = []
    try:
        await process.bus.start()
        started.append(process.bus)
        for component in process.components:
            await component.start()
            started.append(component)
        await health.start()
        log.info(
            "%s ready: health on http://%s:%d/health",
            process.name,
            settings.serve.host,
            health.port,
        )
        if on_ready is not None:
            on_ready(process, health.port)
        await _run_until(stop, process)
    finally:
        log.info("%s stopping", process.name)
        await _shutdown(process, health)
        log.info("%s stopped", process.name)


async def _run_until(stop: asyncio.Event, process: ServiceProcess) -> None:
    if process.foreground is None:
        await stop.wait()
        return
    work = asyncio.create_task(process.foreground(stop), name=f"{process.name}-main")
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if work in done:
        work.result()  # a failed feed stops the process with its error
        await waiter  # a finished feed keeps the process up (and healthy) until stopped
        return
    waiter.cancel()
    # ``stop`` is set: the foreground checks it between batches and returns.
    await work


async def _shutdown(process: ServiceProcess, health: HealthServer) -> None:
    await process.bus.stop_consuming()
    for component in reversed(process.components):
        try:
            await component.stop()
        except Exception:
            log.exception("%s: stopping %s failed", process.name, component.name)
    await process.bus.stop()
    await health.stop()
    for close in process.closers:
        await close()


def _add_health(process: ServiceProcess, token: str) -> None:
    """The paper venue's API answers /health with liveness only; put the full probes there."""
    api = process.api
    assert api is not None
    probes = health_api(process.name, process.checks, process.stats, token=token)
    paths = {"/health", "/health/live", "/health/ready", "/status"}
    api.router.routes[:] = [r for r in api.router.routes if getattr(r, "path", "") not in paths]
    api.router.routes.extend(r for r in probes.routes if getattr(r, "path", "") in paths)
