"""The distributed platform as separate OS processes, for end-to-end and fault tests.

Each service is ``python -m jts serve <service>`` with its settings in the
environment, its own health port and its own log file; the test drives them as an
operator would: start, probe ``/health``, SIGTERM, SIGKILL.

``jts serve`` binds the port from its settings; it takes no inherited socket. So the
cluster holds every service's port (``sockets.Port``) from creation to ``stop_all``:
nothing else can take it between runs, a restarted service gets its old port back,
and while a service is down its port refuses connections as a stopped service would.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import httpx

from sockets import Port

SERVICES = ("paper-venue", "portfolio", "order-execution", "strategy-engine", "market-data")
VENUE_TOKEN = secrets.token_urlsafe(32)


@dataclass
class Cluster:
    root: Path
    kafka_bootstrap: str
    database_url: str
    topic_prefix: str
    speed: float = 40.0
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    held: dict[str, Port] = field(default_factory=dict)
    # More settings for every service, e.g. ``JTS_BUS__KAFKA__LOCKSTEP``.
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.held = {service: Port() for service in SERVICES}
        self.ports = {service: port.number for service, port in self.held.items()}

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
        env.update(
            {
                "JTS_BUS__KIND": "kafka",
                "JTS_BUS__KAFKA__BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "JTS_BUS__KAFKA__TOPIC_PREFIX": self.topic_prefix,
                "JTS_BUS__KAFKA__PARTITIONS": "3",
                "JTS_DATABASE_URL": self.database_url,
                "JTS_DATA_DIR": str(self.root / "data"),
                "JTS_FEED__SPEED": str(self.speed),
                "JTS_SERVE__HOST": "127.0.0.1",
                "JTS_SERVE__TOKEN": VENUE_TOKEN,
                "JTS_SERVE__RECONCILE_INTERVAL": "2",
                "JTS_LOG_LEVEL": "INFO",
            }
        )
        env.update(self.extra_env)
        for service, port in self.ports.items():
            env[f"JTS_SERVE__{service.upper().replace('-', '_')}_PORT"] = str(port)
        return env

    def start(self, service: str, *args: str) -> None:
        self.starts[service] = self.starts.get(service, 0) + 1
        log = (self.root / f"{service}.{self.starts[service]}.log").open("wb")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", "jts", "serve", service, *args],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def health(self, service: str) -> tuple[int, dict[str, Any]]:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.ports[service]}/health", timeout=5)
        except httpx.HTTPError:
            return 0, {}
        return answer.status_code, answer.json()

    def stats(self, service: str) -> dict[str, Any]:
        """The service's counters, from ``/status`` (behind the service token)."""
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{self.ports[service]}/status",
                headers={"Authorization": f"Bearer {VENUE_TOKEN}"},
                timeout=5,
            )
        except httpx.HTTPError:
            return {}
        return dict(answer.json().get("stats", {})) if answer.is_success else {}

    def wait_ready(self, service: str, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait_for(service, lambda status, body: status == 200, timeout)

    def wait_for(
        self,
        service: str,
        condition: Callable[[int, dict[str, Any]], bool],
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status, body = 0, {}
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise AssertionError(f"{service} exited {process.returncode}:\n{self.log(service)}")
            status, body = self.health(service)
            if condition(status, body):
                return body
            time.sleep(0.25)
        raise AssertionError(f"{service}: gave up waiting; last /health {status} {body}")

    def signal(self, service: str, sig: signal.Signals, timeout: float = 60.0) -> int:
        process = self.processes[service]
        process.send_signal(sig)
        return process.wait(timeout)

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for service in reversed(SERVICES):
            process = self.processes.get(service)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            codes[service] = process.returncode
        for port in self.held.values():
            port.close()
        return codes

    def log(self, service: str) -> str:
        path = self.root / f"{service}.{self.starts.get(service, 1)}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def venue(self, path: str) -> Any:
        answer = httpx.get(
            f"http://127.0.0.1:{self.ports['paper-venue']}{path}",
            headers={"Authorization": f"Bearer {VENUE_TOKEN}"},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def json_logs(self, service: str) -> list[dict[str, Any]]:
        records = []
        for path in sorted(self.root.glob(f"{service}.*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    records.append(json.loads(line))
        return records
