"""The bridge's HTTP answers in the platform's error tree.

Whether a failed order call may have acted decides everything downstream, and
the bridge says so: every error body is ``{"detail", "code", "sent"}``, where
``sent`` tells whether the request reached Creon (BlockRequest was called).
A definite refusal (``REJECTED``) is OrderRejectedByVenue; ``sent: false`` is
RequestNotSent (nothing happened, safe to send again); a communication failure,
a COM error after the request went, or a lost answer is OutcomeUnknown for a
call that acts (an order, cancel or modify), since only a look-up can tell.
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
# The bridge's code for an exception a COM call raised (its text is in ``detail``).
COM_ERROR = "COM_ERROR"


def from_transport(what: str, exc: httpx.TransportError) -> BrokerUnavailable:
    return transport_error(VENUE, what, exc)


def from_answer(what: str, answer: httpx.Response, *, acts: bool) -> BrokerError:
    """``acts``: the request could change something at Creon (an order, cancel or modify)."""
    detail, code, sent = _body(answer)
    status = answer.status_code
    message = f"{VENUE} {what}: {detail}"
    if status < 500:
        return _refusal(status, code, detail, message, answer)
    if sent is False or status == 503 or code in (codes.NOT_CONNECTED, codes.TRADE_NOT_READY):
        return RequestNotSent(message)
    # COMM_FAILURE, COM_ERROR raised by or after BlockRequest, or a bridge that did not say.
    return OutcomeUnknown(message) if acts else BrokerUnavailable(message)


def _refusal(
    status: int, code: str, detail: str, message: str, answer: httpx.Response
) -> BrokerError:
    """A 4xx: the bridge or Creon said no, definitely."""
    if status in (401, 403):
        return AuthenticationFailed(message)
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(answer))
    if status == 404 and code != codes.REJECTED:
        return UnknownOrder(message)
    # REJECTED (Creon's GetDibMsg1), bad input, a cancelled confirmation dialog.
    return OrderRejectedByVenue(detail, code)


def _body(answer: httpx.Response) -> tuple[str, str, bool | None]:
    """(detail, code, sent); ``sent`` is None when the body does not say."""
    try:
        body = answer.json()
        detail = str(body.get("detail") or f"HTTP {answer.status_code}")
        sent = body.get("sent")
        return detail, str(body.get("code") or ""), sent if isinstance(sent, bool) else None
    except (ValueError, AttributeError):
        return f"HTTP {answer.status_code}", "", None


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return float(answer.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
