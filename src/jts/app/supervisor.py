"""``jts serve all``: every service as its own OS process, started and stopped together.

Each child is ``jts serve <service>`` with the same environment, so each keeps its own
health port, logs and crash boundary. Consumers start before producers (the venue
and portfolio first, market data last) and stop in the reverse order. If a child
dies, the others are stopped and the supervisor exits with an error: restarting is
the job of systemd or Kubernetes, which see the exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from jts.app.processes import SERVICES

log = logging.getLogger("jts.serve")

START_ORDER = ("paper-venue", "portfolio", "order-execution", "strategy-engine", "market-data")
_STOP_GRACE = 30.0


async def serve_all(
    stop: asyncio.Event, *, services: tuple[str, ...] = START_ORDER, sessions: int | None = None
) -> int:
    """Run ``services`` as children until ``stop`` is set or one exits; returns an exit code."""
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown services: {', '.join(unknown)}")
    children: dict[str, asyncio.subprocess.Process] = {}
    try:
        for service in services:
            command = [sys.executable, "-m", "jts", "serve", service]
            if sessions is not None and service == "market-data":
                command += ["--sessions", str(sessions)]
            children[service] = await asyncio.create_subprocess_exec(
                *command, env=os.environ.copy()
            )
            log.info("started %s (pid %d)", service, children[service].pid)
        waits = {
            asyncio.create_task(child.wait(), name=service): service
            for service, child in children.items()
        }
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({*waits, stopper}, return_when=asyncio.FIRST_COMPLETED)
        failed = [waits[task] for task in done if task in waits]
        for task in waits:
            task.cancel()
        stopper.cancel()
        if failed:
            log.error("%s exited; stopping the others", ", ".join(failed))
            return 1
        return 0
    finally:
        await _stop_children(children)


async def _stop_children(children: dict[str, asyncio.subprocess.Process]) -> None:
    for service in reversed(list(children)):
        child = children[service]
        if child.returncode is not None:
            continue
        child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), _STOP_GRACE)
        except TimeoutError:
            log.error("%s did not stop within %.0f s; killing it", service, _STOP_GRACE)
            child.kill()
            await child.wait()
