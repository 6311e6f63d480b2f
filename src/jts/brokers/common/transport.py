"""What an httpx failure means for an order: never sent, or maybe acted on."""

from __future__ import annotations

import httpx

from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent

# Raised before a byte of the request left: the venue cannot have acted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_error(venue: str, what: str, exc: httpx.TransportError) -> BrokerUnavailable:
    detail = f"{venue} {what}: {type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, _NOT_SENT):
        return RequestNotSent(detail)
    return OutcomeUnknown(detail)
