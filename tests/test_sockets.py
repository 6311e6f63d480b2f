"""The test servers' ports: held from the start, so no other socket can take them."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI

from sockets import Port
from sockets import listening_socket
from sockets import port_of
from sockets import serve


def test_a_held_port_is_never_handed_out_and_refuses_while_nothing_listens() -> None:
    with Port() as port:
        with socket.socket() as plain, pytest.raises(OSError):
            plain.bind(("127.0.0.1", port.number))
        handed: set[int] = set()
        for _ in range(2_000):
            with socket.socket() as other:
                other.bind(("127.0.0.1", 0))
                handed.add(port_of(other))
        assert port.number not in handed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port.number), timeout=1)


def test_a_server_binds_a_held_port_again_after_it_stopped() -> None:
    with Port() as port:
        for _ in range(2):
            with (
                port.listening_socket() as server,
                socket.create_connection(("127.0.0.1", port.number), timeout=1),
            ):
                accepted, _ = server.accept()
                accepted.close()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port.number), timeout=1)


async def test_serve_answers_on_the_socket_it_was_given() -> None:
    app = FastAPI()
    app.get("/ping")(lambda: {"ok": True})
    sock = listening_socket()
    served = await serve(app, sock)
    try:
        assert served.port == port_of(sock)
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{served.url}/ping")
        assert answer.json() == {"ok": True}
    finally:
        await served.stop()
