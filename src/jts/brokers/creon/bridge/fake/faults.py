"""Failures only tests switch on: a dropped HTTP answer and COM calls that raise.

Nothing here is wired by the production entry point (``main`` serves the plain
app, also with ``--fake``); a test wraps the app or the factory itself.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jts.brokers.creon.bridge.fake.market import FakeCreonMarket
from jts.brokers.creon.bridge.fake.objects import FakeComFactory

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def drop_order_responses(app: ASGIApp, market: FakeCreonMarket) -> ASGIApp:
    """ASGI wrapper: when armed, let ``POST /orders`` run, then cut the connection unanswered.

    The bridge places the order; the client sees a dropped connection, as it
    would if the link failed between Creon's answer and the HTTP response. Arm
    it with ``market.drop_next_order_response()``.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/orders"
            and market.take_drop_order_response()
        ):
            await app(scope, receive, send)
            return

        async def swallow(message: dict[str, Any]) -> None:
            return None

        await app(scope, receive, swallow)
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-length", b"1000")],
            }
        )
        # An exception after the response started makes the server close the socket.
        raise ConnectionAbortedError("fake: connection dropped after the order was placed")

    return wrapped


class FakeComError(Exception):
    """Shaped like ``pywintypes.com_error``: ``(hresult, message, excepinfo, argerror)``."""

    def __init__(self, description: str, hresult: int = -2147352567) -> None:
        # excepinfo: (wcode, source, description, helpfile, helpcontext, scode)
        super().__init__(hresult, "Exception occurred.", (0, "CpTrade", description, None, 0, -1))


@dataclass
class _Fault:
    progid: str
    member: str  # "SetInputValue" (before sending), "BlockRequest" (after Creon acted)
    error: Exception
    times: int


class FaultyComFactory(FakeComFactory):
    """The fake factory whose objects raise where a test armed them to.

    ``fail(progid, "SetInputValue")`` raises before the request leaves (nothing
    was sent); ``fail(progid, "BlockRequest")`` raises after Creon carried the
    request out (it was sent and acted on); ``fail(progid, "GetHeaderValue",
    header=5)`` raises reading one header of the answer; ``blank(progid, 5)``
    makes that header read as missing (None) instead.
    """

    def __init__(self, market: FakeCreonMarket) -> None:
        super().__init__(market)
        self._faults: list[tuple[_Fault, int | None]] = []
        self._blanks: dict[tuple[str, int], int] = {}

    def blank(self, progid: str, header: int, *, times: int = 1) -> None:
        self._blanks[(progid.lower(), header)] = times

    def _blanked(self, progid: str, header: int) -> bool:
        key = (progid.lower(), header)
        if self._blanks.get(key, 0) <= 0:
            return False
        self._blanks[key] -= 1
        return True

    def fail(
        self,
        progid: str,
        member: str,
        error: Exception | None = None,
        *,
        header: int | None = None,
        times: int = 1,
    ) -> None:
        fault = _Fault(progid.lower(), member, error or FakeComError(f"{member} failed"), times)
        self._faults.append((fault, header))

    def _take(self, progid: str, member: str, header: int | None = None) -> Exception | None:
        for fault, wanted in self._faults:
            if (
                fault.progid == progid.lower()
                and fault.member == member
                and wanted == header
                and fault.times > 0
            ):
                fault.times -= 1
                return fault.error
        return None

    def dispatch(self, progid: str) -> Any:
        return _Faulty(super().dispatch(progid), progid, self)

    def subscribe(self, obj: Any, on_received: Callable[[], None]) -> Any:
        inner = obj._obj if isinstance(obj, _Faulty) else obj
        return super().subscribe(inner, on_received)


class _Faulty:
    """A fake COM object that asks its factory for an armed fault before each call."""

    def __init__(self, obj: Any, progid: str, factory: FaultyComFactory) -> None:
        self._obj = obj
        self._progid = progid
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def SetInputValue(self, index: int, value: Any) -> None:
        error = self._factory._take(self._progid, "SetInputValue")
        if error is not None:
            raise error
        self._obj.SetInputValue(index, value)

    def BlockRequest(self) -> int:
        status = int(self._obj.BlockRequest())
        error = self._factory._take(self._progid, "BlockRequest")
        if error is not None:
            raise error
        return status

    def GetHeaderValue(self, index: int) -> Any:
        error = self._factory._take(self._progid, "GetHeaderValue", index)
        if error is not None:
            raise error
        if self._factory._blanked(self._progid, index):
            return None
        return self._obj.GetHeaderValue(index)
