"""KIS answers mapped onto the platform's broker error tree.

KIS answers gateway trouble with HTTP 500 and a JSON body naming ``msg_cd``
(EGW...), and business refusals with ``rt_cd`` other than "0". A 5xx without a
readable body says nothing about whether an order was placed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerError
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RateLimited

RATE_LIMITED = "EGW00201"
TOKEN_EXPIRED = "EGW00123"
TOKEN_INVALID = "EGW00121"
TOKEN_TOO_SOON = "EGW00133"
TOKEN_CODES = frozenset({TOKEN_EXPIRED, TOKEN_INVALID})
# App key or secret refused (several codes exist across KIS's gateway versions).
AUTH_CODES = frozenset({"EGW00102", "EGW00103", "EGW00104", "EGW00105", "EGW00106"})
# The per-minute token issuance limit; KIS asks to wait a minute.
TOKEN_RETRY_AFTER = 61.0


class TokenTooSoon(RateLimited):
    """EGW00133: KIS issued a token for this app key less than a minute ago."""


class TokenRejected(BrokerError):
    """The access token expired or is invalid: issue a new one and repeat the call."""


def message_code(body: Any) -> tuple[str, str]:
    """(msg_cd, msg1) of a KIS body; the token endpoint uses error_code/error_description."""
    if not isinstance(body, dict):
        return "", ""
    code = body.get("msg_cd") or body.get("error_code") or ""
    text = body.get("msg1") or body.get("error_description") or ""
    return str(code), str(text).strip()


_BY_CODE: dict[str, Callable[[str], BrokerError]] = {
    RATE_LIMITED: RateLimited,
    TOKEN_TOO_SOON: lambda label: TokenTooSoon(label, retry_after=TOKEN_RETRY_AFTER),
}


def venue_error(status: int, body: Any, *, what: str, idempotent: bool) -> BrokerError:
    code, text = message_code(body)
    label = f"KIS {what}: [{code}] {text}" if code else f"KIS {what}: HTTP {status} {text}"
    if code in _BY_CODE:
        return _BY_CODE[code](label)
    if code in TOKEN_CODES:
        return TokenRejected(label)
    if code in AUTH_CODES or status in (401, 403):
        return AuthenticationFailed(label)
    if code:
        # KIS explained itself: the request was refused, nothing was placed.
        return OrderRejectedByVenue(text or label, code)
    if status >= 500:
        return BrokerUnavailable(label) if idempotent else OutcomeUnknown(label)
    return BrokerError(label)
