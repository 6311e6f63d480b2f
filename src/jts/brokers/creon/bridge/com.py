"""The COM surface the bridge uses, as Protocols, and the one thread that may touch it.

Creon's objects are apartment-threaded COM servers: every call, and every event,
happens on the thread that created them, and events only arrive while that
thread pumps Windows messages. ``ComWorker`` is that thread. It runs the jobs
the async side hands it one at a time and pumps messages between them, so an
``OnReceived`` handler fires on the same thread as the ``BlockRequest`` calls.

The bridge is written against the Protocols below, not against pywin32, so the
same code runs over the fake objects on Linux. ProgIDs are listed here once.

Whatever a COM call raises (``pywintypes.com_error`` or anything else) is turned
into a ``BridgeError`` 502 ``COM_ERROR`` on this thread, marked ``sent`` when the
job had already called ``BlockRequest`` (through ``ComWorker.block_request``),
so the adapter can tell "nothing happened" from "Creon may have acted".
"""

from __future__ import annotations

import asyncio
import importlib
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any
from typing import Protocol
from typing import TypeVar

from jts.brokers.creon.bridge import errors
from jts.brokers.creon.bridge.errors import BridgeError
from jts.brokers.creon.bridge.errors import com_error_text

T = TypeVar("T")

CYBOS = "CpUtil.CpCybos"
CODE_MGR = "CpUtil.CpCodeMgr"
STOCK_CODE = "CpUtil.CpStockCode"
STOCK_MST = "DsCbo1.StockMst"
STOCK_CHART = "CpSysDib.StockChart"
TD_UTIL = "CpTrade.CpTdUtil"
ORDER = "CpTrade.CpTd0311"
MODIFY = "CpTrade.CpTd0313"
CANCEL = "CpTrade.CpTd0314"
UNFILLED = "CpTrade.CpTd5339"
TODAY_ORDERS = "CpTrade.CpTd5341"
BALANCE = "CpTrade.CpTd6033"
CONCLUSION = "DsCbo1.CpConclusion"

# GetLimitRemainCount kinds (Cybos help: LT_TRADE_REQUEST, LT_NONTRADE_REQUEST, LT_SUBSCRIBE).
LT_TRADE_REQUEST = 0
LT_NONTRADE_REQUEST = 1
LT_SUBSCRIBE = 2

# BlockRequest return codes.
RQ_OK = 0
RQ_COMM_FAILURE = 1
RQ_CONFIRM_CANCELLED = 2
RQ_INTERNAL_ERROR = 3
RQ_LIMIT_EXCEEDED = 4


class DibObject(Protocol):
    """A request (RQ) or subscription (SB) object: StockMst, StockChart, CpTd0311, ..."""

    @property
    def Continue(self) -> int: ...

    def SetInputValue(self, index: int, value: Any) -> None: ...

    def BlockRequest(self) -> int: ...

    def GetHeaderValue(self, index: int) -> Any: ...

    def GetDataValue(self, index: int, row: int) -> Any: ...

    def GetDibStatus(self) -> int: ...

    def GetDibMsg1(self) -> str: ...

    def Subscribe(self) -> None: ...

    def Unsubscribe(self) -> None: ...


class Cybos(Protocol):
    """``CpUtil.CpCybos``: connection state and Creon's own request counters."""

    @property
    def IsConnect(self) -> int: ...

    @property
    def ServerType(self) -> int: ...

    @property
    def LimitRequestRemainTime(self) -> int: ...  # milliseconds

    def GetLimitRemainCount(self, kind: int) -> int: ...


class TdUtil(Protocol):
    """``CpTrade.CpTdUtil``: trade initialisation and the signed-on accounts."""

    @property
    def AccountNumber(self) -> tuple[str, ...]: ...

    def TradeInit(self, flag: int) -> int: ...

    def GoodsList(self, account: str, kind: int) -> tuple[str, ...]: ...


class ComFactory(Protocol):
    """Creates COM objects and wires their events; used only on the COM thread."""

    def initialize_thread(self) -> None:
        """Called first on the COM thread (``CoInitialize``)."""
        ...

    def dispatch(self, progid: str) -> Any: ...

    def subscribe(self, obj: Any, on_received: Callable[[], None]) -> Any:
        """Call ``on_received()`` on each ``Received`` event of ``obj``; keep the handle."""
        ...

    def pump(self) -> None:
        """Deliver waiting events (``PumpWaitingMessages``)."""
        ...


class Win32ComFactory:
    """The real thing: pywin32 on Windows, imported only when the bridge starts there."""

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise RuntimeError("the Creon COM objects exist only on Windows; use --fake here")
        self._client: Any = None
        self._pythoncom: Any = None

    def initialize_thread(self) -> None:
        pythoncom = importlib.import_module("pythoncom")
        pythoncom.CoInitialize()
        self._client = importlib.import_module("win32com.client")
        self._pythoncom = pythoncom

    def dispatch(self, progid: str) -> Any:
        return self._client.Dispatch(progid)

    def subscribe(self, obj: Any, on_received: Callable[[], None]) -> Any:
        class Handler:
            # pywin32 instantiates the handler class itself, without arguments.
            def OnReceived(self) -> None:
                on_received()

        return self._client.WithEvents(obj, Handler)

    def pump(self) -> None:
        self._pythoncom.PumpWaitingMessages()


_STOP = object()


class ComWorker:
    """One thread owns every COM object; jobs run there in order, events are pumped between."""

    def __init__(self, factory: ComFactory, *, pump_interval: float = 0.02) -> None:
        self.factory = factory
        self._pump_interval = pump_interval
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="creon-com", daemon=True)
        self._started = False
        self._sent = False  # the running job called BlockRequest; COM thread only

    def block_request(self, obj: DibObject) -> int:
        """``obj.BlockRequest()``, noting that the running job reached Creon; COM thread."""
        self._sent = True
        return int(obj.BlockRequest())

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self) -> None:
        if self._started and self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join(timeout=5.0)

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the COM thread; the caller's task waits without blocking the loop."""
        if not self._started:
            raise RuntimeError("COM worker not started")
        return await asyncio.wrap_future(self.submit(fn))

    def _run(self) -> None:
        self.factory.initialize_thread()
        while True:
            try:
                item = self._jobs.get(timeout=self._pump_interval)
            except queue.Empty:
                self.factory.pump()
                continue
            if item is _STOP:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            self._sent = False
            try:
                result = fn()
            except BridgeError as exc:
                future.set_exception(exc)
            except Exception as exc:
                future.set_exception(
                    BridgeError(502, errors.COM_ERROR, com_error_text(exc), sent=self._sent)
                )
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            self.factory.pump()
