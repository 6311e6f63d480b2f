"""Ports for test servers that no other test or process can take in between.

The old ``free_port()`` bound port 0, closed the socket and handed the number on; anything
else on the machine could bind it before the server did. Here the socket is never let go:

- ``listening_socket()`` is bound and listening; an in-process server serves on it
  (uvicorn ``sockets=``, aiohttp/websockets ``sock=``), so the port is never free.
- ``Port`` holds a port for a server that binds it itself: a child process told the
  number in its settings, or a fake stopped and started again on the same number.
  The held socket sets SO_REUSEADDR and never listens, so Linux lets the server
  (which sets SO_REUSEADDR too, as asyncio and uvicorn do) bind and listen on it,
  while bind(0) and outgoing connections are never given it. A connection made while
  the server is down is refused, as it would be against a real venue that went away.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn

from waiting import eventually

HOST = "127.0.0.1"


def _tcp_socket() -> socket.socket:
    # proto=IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def listening_socket() -> socket.socket:
    """A socket on a port the kernel chose, already listening: hand it to the server."""
    sock = _tcp_socket()
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


class Port:
    """A port held for the test's lifetime, for servers that bind it themselves."""

    def __init__(self) -> None:
        self._held = _tcp_socket()
        self._held.bind((HOST, 0))
        self.number = port_of(self._held)

    def listening_socket(self) -> socket.socket:
        """A fresh listening socket on this port (after the previous server closed its own)."""
        sock = _tcp_socket()
        sock.bind((HOST, self.number))
        sock.listen(128)
        return sock

    def close(self) -> None:
        self._held.close()

    def __enter__(self) -> Port:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class Served:
    """An ASGI app served by uvicorn in this event loop."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def serve(app: Any, sock: socket.socket | None = None, **config: Any) -> Served:
    """Serve ``app`` on ``sock`` (a new listening socket by default) until ``stop()``."""
    sock = sock if sock is not None else listening_socket()
    config.setdefault("log_config", None)
    server = uvicorn.Server(uvicorn.Config(app, **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # uvicorn offers no start-up event; it sets ``started`` once the socket is served.
    await eventually(lambda: server.started or task.done())
    if not server.started:
        await task
        raise RuntimeError("uvicorn stopped during start-up")
    return Served(server, task, port_of(sock))
