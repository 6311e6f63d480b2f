"""The bridge's HTTP answers in the platform's error tree.

Whether a failed order call may have acted decides everything downstream:
503 (not connected, trading not initialised) and 429 are refusals before
anything reached Creon (``RequestNotSent``); a 5xx otherwise, or a connection
lost mid-answer, may hide a placed order (``OutcomeUnknown``).
"""

from __future__ import annotations

import httpx

from jts.brokers.common.transport import transport_error
from jts.brokers.creon.bridge import errors as codes
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerError
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RateLimited
from jts.domain.errors import RequestNotSent
from jts.domain.errors import UnknownOrder

VENUE = "creon"


def from_transport(what: str, exc: httpx.TransportError) -> BrokerUnavailable:
    return transport_error(VENUE, what, exc)


def from_answer(what: str, answer: httpx.Response, *, acts: bool) -> BrokerError:
    """``acts``: the request could change something at Creon (an order or a cancel)."""
    detail, code = _body(answer)
    status = answer.status_code
    message = f"{VENUE} {what}: {detail}"
    if status in (401, 403):
        return AuthenticationFailed(message)
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(answer))
    if status == 503 or code in (codes.NOT_CONNECTED, codes.TRADE_NOT_READY):
        return RequestNotSent(message)
    if status >= 500:
        return OutcomeUnknown(message) if acts else BrokerUnavailable(message)
    if status == 404:
        return UnknownOrder(message)
    return OrderRejectedByVenue(detail, code)


def _body(answer: httpx.Response) -> tuple[str, str]:
    try:
        body = answer.json()
        return str(body.get("detail") or f"HTTP {answer.status_code}"), str(body.get("code") or "")
    except (ValueError, AttributeError):
        return f"HTTP {answer.status_code}", ""


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return float(answer.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
