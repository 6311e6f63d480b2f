"""The bridge's error JSON in the error tree: refused, not sent, or unknown."""

from __future__ import annotations

import httpx
import pytest

from jts.brokers.creon.errors import from_answer
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerError
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RateLimited
from jts.domain.errors import RequestNotSent
from jts.domain.errors import UnknownOrder


def answer(status: int, code: str, *, sent: bool | None) -> httpx.Response:
    body: dict[str, object] = {"detail": f"{code} detail", "code": code}
    if sent is not None:
        body["sent"] = sent
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("status", "code", "sent", "acts", "expected"),
    [
        (400, "REJECTED", True, True, OrderRejectedByVenue),
        (502, "COM_ERROR", False, True, RequestNotSent),  # raised before BlockRequest
        (502, "COM_ERROR", True, True, OutcomeUnknown),  # raised by or after BlockRequest
        (502, "COM_ERROR", True, False, BrokerUnavailable),  # a look-up: ask again
        (502, "COMM_FAILURE", True, True, OutcomeUnknown),
        (502, "COMM_FAILURE", None, True, OutcomeUnknown),  # a bridge that does not say
        (503, "NOT_CONNECTED", False, True, RequestNotSent),
        (429, "RATE_LIMITED", False, True, RateLimited),
        (401, "UNAUTHORIZED", False, True, AuthenticationFailed),
        (404, "UNKNOWN_ORDER", False, True, UnknownOrder),
        (409, "CONFIRM_CANCELLED", True, True, OrderRejectedByVenue),
    ],
)
def test_error_bodies_map_by_code_and_sent(
    status: int, code: str, sent: bool | None, acts: bool, expected: type[BrokerError]
) -> None:
    error = from_answer("POST /orders", answer(status, code, sent=sent), acts=acts)
    assert type(error) is expected
    assert f"{code} detail" in str(error)


def test_a_com_error_keeps_creons_words() -> None:
    body = {"detail": "(-2147352567, 'Exception occurred.')", "code": "COM_ERROR", "sent": True}
    error = from_answer("DELETE /orders/1001", httpx.Response(502, json=body), acts=True)
    assert isinstance(error, OutcomeUnknown)
    assert "Exception occurred." in str(error)
