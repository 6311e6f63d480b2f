"""KIS access tokens: issued rarely, cached on disk, shared by every process of an app key.

KIS allows one issuance per minute per app key and notifies the user on every
one, and a token lives a day. So the token is written to a file (mode 600) next
to the other processes' and reused until ``refresh_margin`` before it expires;
an exclusive file lock around issuance makes the collector and order execution
starting together issue one token, not two. The file is named by a hash of the
app key, never the key itself.

KIS refuses an issuance within a minute of the last (EGW00133), also one made by a
program that does not share this cache. The refusal is written to the cache file
under the lock, so no process sharing it asks again before the minute is over.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jts.brokers.kis.errors import TokenTooSoon
from jts.domain.errors import StorageError


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: float  # epoch seconds
    issued_at: float

    def __repr__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at:.0f}, issued_at={self.issued_at:.0f})"


Issuer = Callable[[], Awaitable[AccessToken]]


@dataclass(frozen=True, slots=True)
class _Cached:
    token: AccessToken | None
    refused_at: float = 0.0  # epoch seconds of KIS's latest "too soon" refusal


_NOTHING = _Cached(None)


class TokenCache:
    def __init__(
        self,
        directory: Path,
        app_key: str,
        environment: str,
        *,
        refresh_margin: float = 600.0,
        min_issue_interval: float = 61.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        digest = hashlib.sha256(app_key.encode()).hexdigest()[:16]
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / f"token-{environment}-{digest}.json"
        self._lock_path = directory / f"token-{environment}-{digest}.lock"
        self.refresh_margin = refresh_margin
        self.min_issue_interval = min_issue_interval
        self._clock = clock
        self._memory: AccessToken | None = None
        self._guard = asyncio.Lock()
        self.issued = 0

    def _usable(self, token: AccessToken | None) -> bool:
        return token is not None and token.expires_at - self.refresh_margin > self._clock()

    def _read(self) -> AccessToken | None:
        return self._read_state().token

    def _read_state(self) -> _Cached:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _NOTHING
        except ValueError:
            return _NOTHING  # a damaged cache is only a cache: issue anew
        if not isinstance(data, dict):
            return _NOTHING
        try:
            refused_at = float(data.get("refused_at", 0.0))
        except (ValueError, TypeError):
            refused_at = 0.0
        try:
            token = AccessToken(data["token"], float(data["expires_at"]), float(data["issued_at"]))
        except (KeyError, ValueError, TypeError):
            token = None
        return _Cached(token, refused_at)

    def _write(self, token: AccessToken | None, refused_at: float = 0.0) -> None:
        record: dict[str, object] = {}
        if token is not None:
            record.update(token=token.value, expires_at=token.expires_at, issued_at=token.issued_at)
        if refused_at:
            record["refused_at"] = refused_at
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp, self.path)

    async def get(self, issue: Issuer) -> AccessToken:
        """A token valid for a while yet, issuing one only when no process has one."""
        if self._usable(self._memory):
            assert self._memory is not None
            return self._memory
        async with self._guard:
            token = await asyncio.to_thread(self._read)
            if self._usable(token):
                self._memory = token
                assert token is not None
                return token
            return await self._issue_locked(issue, stale=token)

    async def invalidate(self, rejected: AccessToken, issue: Issuer) -> AccessToken:
        """KIS refused ``rejected``: get another, unless another process already did."""
        async with self._guard:
            current = await asyncio.to_thread(self._read)
            if current is not None and current.value != rejected.value and self._usable(current):
                self._memory = current
                return current
            return await self._issue_locked(issue, stale=current)

    async def _issue_locked(self, issue: Issuer, stale: AccessToken | None) -> AccessToken:
        lock = await asyncio.to_thread(self._acquire_file_lock)
        try:
            # Another process may have issued while we waited for the lock.
            state = await asyncio.to_thread(self._read_state)
            current = state.token
            if self._usable(current) and (stale is None or current != stale):
                assert current is not None
                self._memory = current
                return current
            # A minute after the last issuance, or after KIS last said "too soon".
            last = max(current.issued_at if current else 0.0, state.refused_at)
            wait = last + self.min_issue_interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                token = await issue()
            except TokenTooSoon:
                # EGW00133: someone issued within the minute. Every process sharing
                # this file waits the minute out instead of being refused in turn.
                await asyncio.to_thread(self._write, current, self._clock())
                raise
            self.issued += 1
            await asyncio.to_thread(self._write, token)
            self._memory = token
            return token
        finally:
            await asyncio.to_thread(self._release_file_lock, lock)

    def _acquire_file_lock(self) -> int:
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise StorageError(f"KIS token lock {self._lock_path}: {exc}") from exc
        return fd

    @staticmethod
    def _release_file_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
