"""Trading halts in the data folder: ``trading-halts.json``, with every change in a log.

A file, not a table: order execution and ``jts orders resume`` share the data folder,
a halt must survive a restart and a database outage alike, and the operator can read
it with any editor. Writes take an exclusive lock (``trading-halts.lock``), go to a
temporary file, are fsync'd and renamed over the old one, so a crash leaves the old
or the new state, never half of one. Every halt and resume is appended to
``trading-halts.log`` (JSON lines): the explicit record of who resumed and why.

Reading is cheap enough for every signal: the file is parsed again only when its
modification time or size changed, which is how a resume from the command line
reaches a running process without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jts.domain.errors import StorageError
from jts.domain.halts import TradingHalt

HALTS_FILE = "trading-halts.json"
LOG_FILE = "trading-halts.log"
_LOCK_FILE = "trading-halts.lock"


class FileHaltStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / HALTS_FILE
        self.log_path = directory / LOG_FILE
        self._seen: tuple[int, int] | None = None
        self._halts: dict[str, TradingHalt] = {}

    async def current(self, account: str) -> TradingHalt | None:
        return self._read().get(account)

    async def all(self) -> dict[str, TradingHalt]:
        return dict(self._read())

    async def halt(self, account: str, reason: str, ts: int) -> TradingHalt:
        return await asyncio.to_thread(self._halt, account, reason, ts)

    async def resume(self, account: str, *, by: str, reason: str, ts: int) -> TradingHalt | None:
        return await asyncio.to_thread(self._resume, account, by, reason, ts)

    # -- under the lock --------------------------------------------------------------------

    def _halt(self, account: str, reason: str, ts: int) -> TradingHalt:
        with self._locked():
            halts = self._load()
            existing = halts.get(account)
            halt = (
                TradingHalt(account, ts, (reason,))
                if existing is None
                else existing.with_finding(reason)
            )
            halts[account] = halt
            self._write(halts)
            self._append({"ts": ts, "action": "halt", "account": account, "reason": reason})
            return halt

    def _resume(self, account: str, by: str, reason: str, ts: int) -> TradingHalt | None:
        with self._locked():
            halts = self._load()
            ended = halts.pop(account, None)
            if ended is None:
                return None
            self._write(halts)
            self._append(
                {"ts": ts, "action": "resume", "account": account, "by": by, "reason": reason}
            )
            return ended

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with (self.directory / _LOCK_FILE).open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                yield
        except OSError as exc:
            raise StorageError(f"trading halts in {self.directory}: {exc.strerror}") from exc

    def _write(self, halts: dict[str, TradingHalt]) -> None:
        body = {"version": 1, "halts": {name: _to_json(h) for name, h in sorted(halts.items())}}
        temporary = self.path.with_name(f".{HALTS_FILE}.{os.getpid()}")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)
        self._seen = None

    def _append(self, record: dict[str, Any]) -> None:
        with self.log_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> dict[str, TradingHalt]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._seen, self._halts = None, {}
            return self._halts
        except OSError as exc:
            raise StorageError(f"trading halts {self.path}: {exc.strerror}") from exc
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._seen:
            self._halts = self._load()
            self._seen = stamp
        return self._halts

    def _load(self) -> dict[str, TradingHalt]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"trading halts {self.path}: {exc.strerror}") from exc
        try:
            body = json.loads(text)
            return {name: _from_json(name, item) for name, item in body["halts"].items()}
        except (ValueError, KeyError, TypeError) as exc:
            # Never read as "not halted": a damaged file keeps every account stopped.
            raise StorageError(
                f"trading halts {self.path} are unreadable ({exc}); fix or delete the file "
                "after checking the accounts"
            ) from exc


def _to_json(halt: TradingHalt) -> dict[str, Any]:
    return {"since_ts": halt.since_ts, "reasons": list(halt.reasons), "findings": halt.findings}


def _from_json(account: str, item: dict[str, Any]) -> TradingHalt:
    return TradingHalt(
        account=account,
        since_ts=int(item["since_ts"]),
        reasons=tuple(str(r) for r in item["reasons"]),
        findings=int(item.get("findings", len(item["reasons"]))),
    )
