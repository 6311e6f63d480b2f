"""One KIS account's REST session: headers, token, envelope, paging, errors.

Every call goes through the account's ``VenueGuard`` (breaker, shared rate
budget, retries by error kind). A refused token is replaced and the call made
once more inside the same attempt: KIS refused it at the gateway, so even an
order cannot have been placed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.transport import transport_error
from jts.brokers.kis.config import KisAccountConfig
from jts.brokers.kis.credentials import KisCredentials
from jts.brokers.kis.environments import KisEndpoints
from jts.brokers.kis.environments import Paths
from jts.brokers.kis.errors import TokenRejected
from jts.brokers.kis.errors import venue_error
from jts.brokers.kis.schemas import check_request
from jts.brokers.kis.token import AccessToken
from jts.brokers.kis.token import TokenCache
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerError
from jts.domain.errors import OrderRejectedByVenue

log = logging.getLogger("jts.brokers.kis")

# Pages followed at most per inquiry (a day's orders on a busy real account fit easily).
MAX_PAGES = 100


@dataclass(frozen=True, slots=True)
class KisResponse:
    body: dict[str, Any]
    more: bool  # response header tr_cont F/M: another page follows


class KisRest:
    def __init__(
        self,
        account: KisAccountConfig,
        credentials: KisCredentials,
        endpoints: KisEndpoints,
        tokens: TokenCache,
        guard: VenueGuard,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.account = account
        self.endpoints = endpoints
        self.base_url = (account.rest_url or endpoints.rest_url).rstrip("/")
        self._credentials = credentials
        self._tokens = tokens
        self.guard = guard
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return f"kis:{self.account.name}"

    async def connect(self) -> None:
        """Open the session and make sure a token can be had: bad credentials fail here."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                headers={"content-type": "application/json; charset=utf-8"},
            )
        await self.token()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise BrokerError(f"{self.name}: not connected")
        return self._http

    # -- auth ------------------------------------------------------------------------

    async def token(self) -> AccessToken:
        return await self._tokens.get(self._issue_token)

    async def _issue_token(self) -> AccessToken:
        body = {
            "grant_type": "client_credentials",
            "appkey": self._credentials.app_key.get_secret_value(),
            "appsecret": self._credentials.app_secret.get_secret_value(),
        }
        data = await self._plain_post(Paths.TOKEN, body, what="access token")
        try:
            value = str(data["access_token"])
            lifetime = float(data.get("expires_in", 86_400))
        except (KeyError, ValueError) as exc:
            raise AuthenticationFailed(f"{self.name}: token answer without a token") from exc
        now = time.time()
        log.info("%s: issued a new access token (valid %.0f h)", self.name, lifetime / 3600)
        return AccessToken(value, now + lifetime, now)

    async def approval_key(self) -> str:
        """The WebSocket approval key (its endpoint names the secret ``secretkey``)."""
        body = {
            "grant_type": "client_credentials",
            "appkey": self._credentials.app_key.get_secret_value(),
            "secretkey": self._credentials.app_secret.get_secret_value(),
        }

        async def call() -> str:
            data = await self._plain_post(Paths.APPROVAL, body, what="approval key")
            key = data.get("approval_key")
            if not isinstance(key, str) or not key:
                raise AuthenticationFailed(f"{self.name}: approval answer without a key")
            return key

        return await self.guard.call(call, idempotent=True)

    async def _plain_post(self, path: str, body: dict[str, str], *, what: str) -> dict[str, Any]:
        check_request(path, body, account=self.account.name)
        try:
            response = await self._client().post(path, json=body)
        except httpx.TransportError as exc:
            raise transport_error(self.name, what, exc) from None
        data = _json(response)
        if response.status_code != 200 or "error_code" in data:
            error = venue_error(
                response.status_code,
                data,
                what=f"account {self.account.name} {what}",
                idempotent=True,
            )
            if isinstance(error, OrderRejectedByVenue):
                # The token endpoint's refusals are credential problems.
                raise AuthenticationFailed(f"{self.name}: {what} refused: {error}")
            raise error
        return data

    # -- calls -------------------------------------------------------------------------

    def headers(self, token: AccessToken, tr_id: str, tr_cont: str = "") -> dict[str, str]:
        return {
            "authorization": f"Bearer {token.value}",
            "appkey": self._credentials.app_key.get_secret_value(),
            "appsecret": self._credentials.app_secret.get_secret_value(),
            "tr_id": tr_id,
            "custtype": "P",
            "tr_cont": tr_cont,
        }

    async def get(
        self, path: str, tr_id: str, params: Mapping[str, str], *, tr_cont: str = ""
    ) -> KisResponse:
        check_request(path, params, account=self.account.name, tr_id=tr_id)
        return await self.guard.call(
            lambda: self._send("GET", path, tr_id, params=params, tr_cont=tr_cont, idem=True),
            idempotent=True,
        )

    async def post(
        self, path: str, tr_id: str, body: Mapping[str, str], *, idempotent: bool
    ) -> KisResponse:
        check_request(path, body, account=self.account.name, tr_id=tr_id)
        return await self.guard.call(
            lambda: self._send("POST", path, tr_id, body=body, idem=idempotent),
            idempotent=idempotent,
        )

    async def pages(
        self,
        path: str,
        tr_id: str,
        params: Mapping[str, str],
        *,
        rows: str = "output1",
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every row of a paged inquiry, following tr_cont and the CTX_AREA cursors."""
        query = dict(params)
        query.setdefault("CTX_AREA_FK100", "")
        query.setdefault("CTX_AREA_NK100", "")
        collected: list[dict[str, Any]] = []
        tr_cont = ""
        for _ in range(MAX_PAGES):
            response = await self.get(path, tr_id, query, tr_cont=tr_cont)
            page = response.body.get(rows) or []
            collected.extend(row for row in page if isinstance(row, dict))
            if not response.more:
                return collected, response.body
            query["CTX_AREA_FK100"] = str(response.body.get("ctx_area_fk100", "")).strip()
            query["CTX_AREA_NK100"] = str(response.body.get("ctx_area_nk100", "")).strip()
            tr_cont = "N"
        raise BrokerError(f"{self.name}: {path} still had pages after {MAX_PAGES}")

    async def _send(
        self,
        method: str,
        path: str,
        tr_id: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        tr_cont: str = "",
        idem: bool,
    ) -> KisResponse:
        token = await self.token()
        for attempt in (1, 2):
            try:
                response = await self._client().request(
                    method,
                    path,
                    params=params,
                    json=dict(body) if body is not None else None,
                    headers=self.headers(token, tr_id, tr_cont),
                )
            except httpx.TransportError as exc:
                raise transport_error(self.name, f"{method} {path}", exc) from None
            data = _json(response)
            if response.status_code == 200 and str(data.get("rt_cd", "")) == "0":
                more = response.headers.get("tr_cont", "") in ("F", "M")
                return KisResponse(data, more)
            error = venue_error(
                response.status_code,
                data,
                what=f"account {self.account.name} {tr_id}",
                idempotent=idem,
            )
            if isinstance(error, TokenRejected) and attempt == 1:
                log.info("%s: token refused (%s); getting a new one", self.name, error)
                token = await self._tokens.invalidate(token, self._issue_token)
                continue
            if isinstance(error, TokenRejected):
                raise AuthenticationFailed(str(error))
            raise error
        raise AssertionError("unreachable")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
