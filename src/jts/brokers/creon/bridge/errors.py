"""The one error the bridge raises: an HTTP status, a stable code and Creon's own words."""

from __future__ import annotations

# Codes the adapter relies on (jts.brokers.creon.adapter maps them to the error tree).
NOT_CONNECTED = "NOT_CONNECTED"  # 503, nothing was sent
TRADE_NOT_READY = "TRADE_NOT_READY"  # 503, TradeInit failed: nothing was sent
RATE_LIMITED = "RATE_LIMITED"  # 429, nothing was sent
REJECTED = "REJECTED"  # 400, Creon refused (GetDibStatus -1); detail is GetDibMsg1
CONFIRM_CANCELLED = "CONFIRM_CANCELLED"  # 409, the order confirmation dialog was cancelled
UNKNOWN_CODE = "UNKNOWN_CODE"  # 404
UNKNOWN_ORDER = "UNKNOWN_ORDER"  # 404
COMM_FAILURE = "COMM_FAILURE"  # 502, BlockRequest 1/3: may or may not have acted
UNAUTHORIZED = "UNAUTHORIZED"  # 401
INVALID = "INVALID"  # 422, bad input


class BridgeError(Exception):
    def __init__(
        self, status: int, code: str, detail: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
