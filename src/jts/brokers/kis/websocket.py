"""KIS real-time WebSocket: trades and fill notices, kept subscribed across drops.

One session per approval key, at most ``max_registrations`` (KIS: 40)
subscriptions on it. The wanted set is remembered, so a reconnect registers
everything again. KIS sends its own ``PINGPONG`` frames and expects them back;
the protocol-level ping is off because KIS does not answer it. Fill notices are
AES-256-CBC encrypted with the key and iv KIS hands out in the subscription
acknowledgement; a frame that does not parse is logged and dropped
(``quarantined`` counts them), never passed on half-read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import websockets
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes
from websockets.asyncio.client import ClientConnection

from jts.brokers.kis.environments import Paths
from jts.brokers.kis.parsing import dec
from jts.brokers.kis.parsing import instrument_of
from jts.brokers.kis.parsing import kst_day
from jts.brokers.kis.parsing import kst_ns
from jts.domain.enums import Side
from jts.domain.errors import DataError

log = logging.getLogger("jts.brokers.kis.websocket")

KEY_IN_USE = "OPSP8996"

# websockets logs every frame at DEBUG, and KIS frames carry the approval key and the
# notice stream's AES key: its logger is pinned at INFO whatever the root level is.
_FRAME_LOG = logging.getLogger("jts.brokers.kis.frames")
_FRAME_LOG.setLevel(logging.INFO)
_TRADE_FIELDS = 46
_NOTICE_FIELDS = 26
_BOOK_FIELDS = 59


@dataclass(frozen=True, slots=True)
class TradePrint:
    instrument_id: str
    ts: int
    price: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class FillNotice:
    order_no: str
    original_order_no: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    ts: int
    is_fill: bool
    rejected: bool


@dataclass(frozen=True, slots=True)
class OrderBook:
    """KRX 10-level book (H0STASP0): (price, quantity) per level, best first."""

    instrument_id: str
    ts: int
    asks: tuple[tuple[Decimal, Decimal], ...]
    bids: tuple[tuple[Decimal, Decimal], ...]

    @property
    def spread(self) -> Decimal | None:
        if not self.asks or not self.bids:
            return None
        return self.asks[0][0] - self.bids[0][0]


TradeCallback = Callable[[TradePrint], Awaitable[None]]
BookCallback = Callable[[OrderBook], Awaitable[None]]
NoticeCallback = Callable[[FillNotice], Awaitable[None]]
ApprovalSource = Callable[[], Awaitable[str]]


def decrypt(payload: str, key: str, iv: str) -> str:
    cipher = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode()))
    decryptor = cipher.decryptor()
    padded = decryptor.update(base64.b64decode(payload)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")


def parse_trades(payload: str, count: int, now_ns: int) -> list[TradePrint]:
    fields = payload.split("^")
    if count < 1 or len(fields) < count * _TRADE_FIELDS:
        raise DataError(f"H0STCNT0: {len(fields)} fields for {count} record(s)")
    width = len(fields) // count
    day = kst_day(now_ns).strftime("%Y%m%d")
    prints = []
    for i in range(count):
        row = fields[i * width : (i + 1) * width]
        price = dec(row[2], "STCK_PRPR")
        volume = dec(row[12], "CNTG_VOL")
        if price <= 0 or volume <= 0:
            raise DataError(f"H0STCNT0 {row[0]}: price {price} volume {volume}")
        prints.append(TradePrint(instrument_of(row[0]), kst_ns(day, row[1]), price, volume))
    return prints


def parse_book(payload: str, now_ns: int) -> OrderBook:
    row = payload.split("^")
    if len(row) < _BOOK_FIELDS:
        raise DataError(f"H0STASP0: {len(row)} fields, expected {_BOOK_FIELDS}")
    day = kst_day(now_ns).strftime("%Y%m%d")

    def levels(prices: int, sizes: int) -> tuple[tuple[Decimal, Decimal], ...]:
        out = []
        for i in range(10):
            price = dec(row[prices + i], "price level")
            if price > 0:
                out.append((price, dec(row[sizes + i], "size level")))
        return tuple(out)

    return OrderBook(
        instrument_of(row[0]), kst_ns(day, row[1]), asks=levels(3, 23), bids=levels(13, 33)
    )


def parse_notice(plain: str, now_ns: int) -> FillNotice:
    row = plain.split("^")
    if len(row) < _NOTICE_FIELDS:
        raise DataError(f"fill notice: {len(row)} fields, expected {_NOTICE_FIELDS}")
    day = kst_day(now_ns).strftime("%Y%m%d")
    is_fill = row[13].strip() == "2"
    return FillNotice(
        order_no=row[2].strip(),
        original_order_no=row[3].strip(),
        instrument_id=instrument_of(row[8]),
        side=Side.BUY if row[4].strip() == "02" else Side.SELL,
        quantity=dec(row[9], "CNTG_QTY") if is_fill else Decimal(0),
        price=dec(row[10], "CNTG_UNPR") if is_fill else Decimal(0),
        ts=kst_ns(day, row[11]),
        is_fill=is_fill,
        rejected=row[12].strip() == "1",
    )


class KisRealtime:
    def __init__(
        self,
        ws_url: str,
        approval: ApprovalSource,
        *,
        name: str = "kis",
        max_registrations: int = 40,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 15.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.url = ws_url.rstrip("/") + Paths.WEBSOCKET
        self.name = name
        self.max_registrations = max_registrations
        self._approval = approval
        self._approval_key: str | None = None
        self._reconnect_initial = reconnect_initial
        self._reconnect_max = reconnect_max
        self._clock = clock
        self._wanted: dict[tuple[str, str], None] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # tr_id -> (key, iv)
        self._trade_callbacks: list[TradeCallback] = []
        self._notice_callbacks: list[NoticeCallback] = []
        self._book_callbacks: list[BookCallback] = []
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self.connects = 0
        self.pongs = 0
        self.quarantined = 0
        self.refused: dict[tuple[str, str], str] = {}

    # -- wiring ------------------------------------------------------------------------

    def on_trade(self, callback: TradeCallback) -> None:
        self._trade_callbacks.append(callback)

    def on_notice(self, callback: NoticeCallback) -> None:
        self._notice_callbacks.append(callback)

    def on_book(self, callback: BookCallback) -> None:
        self._book_callbacks.append(callback)

    @property
    def registrations(self) -> list[tuple[str, str]]:
        return list(self._wanted)

    def subscribe(self, tr_id: str, tr_key: str) -> bool:
        """Want (tr_id, tr_key); False when the session is full (the caller polls instead)."""
        if (tr_id, tr_key) in self._wanted:
            return True
        if len(self._wanted) >= self.max_registrations:
            return False
        self._wanted[(tr_id, tr_key)] = None
        self._send_later(tr_id, tr_key, register=True)
        return True

    def unsubscribe(self, tr_id: str, tr_key: str) -> None:
        if self._wanted.pop((tr_id, tr_key), "absent") is None:
            self._send_later(tr_id, tr_key, register=False)

    def _send_later(self, tr_id: str, tr_key: str, *, register: bool) -> None:
        if self._ws is not None and self.connected.is_set():
            task = asyncio.get_running_loop().create_task(
                self._send_registration(tr_id, tr_key, register)
            )
            # Held until done: the loop keeps only weak references to tasks.
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-ws")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.connected.clear()

    # -- session -----------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self._reconnect_initial
        while True:
            try:
                if self._approval_key is None:
                    self._approval_key = await self._approval()
                async with websockets.connect(
                    self.url,
                    ping_interval=None,
                    open_timeout=10,
                    max_queue=4096,
                    logger=_FRAME_LOG,
                ) as ws:
                    self._ws = ws
                    self.connects += 1
                    for tr_id, tr_key in list(self._wanted):
                        await self._send_registration(tr_id, tr_key, True)
                    self.connected.set()
                    backoff = self._reconnect_initial
                    log.info(
                        "%s: real-time session up, %d registrations", self.name, len(self._wanted)
                    )
                    async for message in ws:
                        await self._handle(
                            ws,
                            message
                            if isinstance(message, str)
                            else message.decode("utf-8", "replace"),
                        )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "%s: real-time session lost (%s: %s); reconnecting in %.1fs",
                    self.name,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
            finally:
                self._ws = None
                self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._reconnect_max)

    async def _send_registration(self, tr_id: str, tr_key: str, register: bool) -> None:
        ws = self._ws
        if ws is None or self._approval_key is None:
            return
        frame = {
            "header": {
                "approval_key": self._approval_key,
                "custtype": "P",
                "tr_type": "1" if register else "2",
                "content-type": "utf-8",
            },
            "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}},
        }
        await ws.send(json.dumps(frame))

    async def _handle(self, ws: ClientConnection, text: str) -> None:
        if text[:1] in ("0", "1"):
            await self._data(text)
            return
        try:
            message: dict[str, Any] = json.loads(text)
        except ValueError:
            self._quarantine(text, "neither a data frame nor JSON")
            return
        header = message.get("header") or {}
        tr_id = str(header.get("tr_id", ""))
        if tr_id == "PINGPONG":
            await ws.send(text)
            self.pongs += 1
            return
        body = message.get("body") or {}
        code = str(body.get("msg_cd", ""))
        if str(body.get("rt_cd", "0")) != "0":
            key = (tr_id, str(header.get("tr_key", "")))
            self.refused[key] = f"[{code}] {body.get('msg1', '')}"
            log.warning("%s: KIS refused %s: %s", self.name, key, self.refused[key])
            if code == KEY_IN_USE:
                self._approval_key = None  # a fresh key on the next connection
                await ws.close()
            return
        output = body.get("output") or {}
        if isinstance(output, dict) and output.get("key") and output.get("iv"):
            self._keys[tr_id] = (str(output["key"]), str(output["iv"]))

    async def _data(self, text: str) -> None:
        parts = text.split("|", 3)
        if len(parts) != 4:
            self._quarantine(text, "expected 4 |-separated parts")
            return
        encrypted, tr_id, count_text, payload = parts
        try:
            if encrypted == "1":
                key = self._keys.get(tr_id)
                if key is None:
                    raise DataError(f"encrypted {tr_id} frame before its key arrived")
                payload = decrypt(payload, *key)
            parsed = _parse_frame(tr_id, int(count_text), payload, self._clock())
        except (DataError, ValueError) as exc:
            self._quarantine(text, str(exc))
            return
        for item in parsed:
            if isinstance(item, TradePrint):
                for on_trade in self._trade_callbacks:
                    await on_trade(item)
            elif isinstance(item, FillNotice):
                for on_notice in self._notice_callbacks:
                    await on_notice(item)
            else:
                for on_book in self._book_callbacks:
                    await on_book(item)

    def _quarantine(self, text: str, reason: str) -> None:
        self.quarantined += 1
        log.warning("%s: malformed real-time frame dropped (%s): %.120s", self.name, reason, text)


def _parse_frame(
    tr_id: str, count: int, payload: str, now_ns: int
) -> list[TradePrint | FillNotice | OrderBook]:
    """The records of one data frame; unknown streams give nothing."""
    if tr_id.startswith("H0STCNI"):
        return [parse_notice(payload, now_ns)]
    if tr_id.endswith("CNT0"):
        return list(parse_trades(payload, count, now_ns))
    if tr_id == "H0STASP0":
        return [parse_book(payload, now_ns)]
    return []
