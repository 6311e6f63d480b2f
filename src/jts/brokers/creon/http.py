"""The HTTP client of ``jts-creon-bridge``: one per Creon account, shared by both ports.

Every call goes through one ``VenueGuard`` (breaker, rate budget, retries that
respect whether an order may have acted) and one error choke point, so the
bridge's error JSON always lands in the same place of the error tree
(``errors.from_answer``). Look-ups get a long read timeout: the bridge completes
a many-page look-up across Creon's 15-second budget windows instead of failing.
The market data and the execution client share this client (one budget, one
breaker, one connection pool); it opens with the first of them and closes with
the last.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import TypeVar

import httpx
from pydantic import BaseModel
from pydantic import TypeAdapter
from pydantic import ValidationError

from jts.brokers.common.breaker import CircuitBreaker
from jts.brokers.common.guard import RetryPolicy
from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.common.ratelimit import RateLimit
from jts.brokers.creon.config import MIN_LOOKUP_TIMEOUT
from jts.brokers.creon.errors import VENUE
from jts.brokers.creon.errors import from_answer
from jts.brokers.creon.errors import from_transport
from jts.brokers.creon.schemas import HealthOut
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import ConfigurationError
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent

log = logging.getLogger("jts.brokers.creon")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
# The bridge paces by Creon's own counters; this only keeps a runaway caller off it.
DEFAULT_LIMITS = (RateLimit(20, 1.0),)


class BridgeClient:
    """Bearer secret, timeouts, the guard and the error mapping of every bridge call."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        account: str = "",
        budget: RateBudget | None = None,
        breaker: CircuitBreaker | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        lookup_timeout: float = MIN_LOOKUP_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.account = account
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self.timeout = timeout
        self.lookup_timeout = lookup_timeout
        self.guard = VenueGuard(
            f"{VENUE}:{account}",
            budget or RateBudget(f"{VENUE}:{account}", DEFAULT_LIMITS),
            breaker,
            policy,
            sleep=sleep,
        )
        self._http: httpx.AsyncClient | None = None
        self._users = 0

    @property
    def is_open(self) -> bool:
        return self._http is not None

    async def open(self) -> None:
        """Take one use of the client; the first opens it and checks the bridge's account."""
        self._users += 1
        if self._http is not None:
            return
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self._secret}"},
            timeout=self.timeout,
        )
        try:
            health = await self.get(HealthOut, "/health")
        except BrokerUnavailable as exc:
            log.warning("creon: bridge not reachable at connect (%s); carrying on", exc)
        except BaseException:
            await self._shut()  # a wrong secret: fail now, not at the first order
            raise
        else:
            if health.account is not None and not self.account:
                self.account = health.account  # not configured: the bridge's account
            elif health.account is not None and health.account != self.account:
                await self._shut()
                raise ConfigurationError(
                    f"creon: the bridge trades account {health.account}, not {self.account}"
                )

    async def close(self) -> None:
        """Give back one use; the last closes the connections."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            await self._shut()

    async def _shut(self) -> None:
        self._users = 0
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # -- calls ----------------------------------------------------------------------------

    async def get(
        self,
        model: type[M],
        path: str,
        *,
        params: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> M:
        """A look-up, retried on transient failures; its read may take ``lookup_timeout``."""
        answer = await self._guarded("GET", path, params=params, read_timeout=read_timeout)
        return parse(model.model_validate_json, answer.content)

    async def get_list(
        self, adapter: TypeAdapter[list[T]], path: str, *, params: dict[str, Any] | None = None
    ) -> list[T]:
        answer = await self._guarded("GET", path, params=params)
        return parse(adapter.validate_json, answer.content)

    async def act(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> M:
        """A call that may change something at Creon: never repeated unless provably unsent.

        An answer that cannot be read is OutcomeUnknown: Creon may have acted on it.
        """
        answer = await self._guarded(method, path, json=json, params=params, acts=True)
        return parse(model.model_validate_json, answer.content, acts=True)

    async def _guarded(
        self,
        method: str,
        path: str,
        *,
        acts: bool = False,
        read_timeout: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if method == "GET":
            read = read_timeout if read_timeout is not None else self.lookup_timeout
            kwargs["timeout"] = httpx.Timeout(self.timeout, read=read)
        return await self.guard.call(
            lambda: self._call(method, path, acts=acts, **kwargs), idempotent=not acts
        )

    async def _call(self, method: str, path: str, *, acts: bool, **kwargs: Any) -> httpx.Response:
        http = self._http
        what = f"{method} {path}"
        if http is None:
            raise RequestNotSent(f"creon: not connected ({what})")
        try:
            answer = await http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise from_transport(what, exc) from exc
        if answer.is_success:
            return answer
        raise from_answer(what, answer, acts=acts)


def parse(read: Callable[[bytes], T], content: bytes, *, acts: bool = False) -> T:
    try:
        return read(content)
    except ValidationError as exc:
        message = f"creon: the bridge answered something unreadable: {exc}"
        raise (OutcomeUnknown(message) if acts else BrokerUnavailable(message)) from exc
