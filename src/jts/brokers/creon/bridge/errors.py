"""The one error the bridge raises: an HTTP status, a stable code, Creon's own words, and sent.

``sent`` tells the adapter whether the request reached Creon (BlockRequest was
called): false means nothing happened and a retry is safe, true with a failure
means Creon may have acted and the outcome must be found out.
"""

from __future__ import annotations

# Codes the adapter relies on (the Linux side maps them to the error tree).
NOT_CONNECTED = "NOT_CONNECTED"  # 503, nothing was sent
TRADE_NOT_READY = "TRADE_NOT_READY"  # 503, TradeInit failed: nothing was sent
RATE_LIMITED = "RATE_LIMITED"  # 429, nothing was sent
REJECTED = "REJECTED"  # 400, Creon refused (GetDibStatus -1); detail is GetDibMsg1
CONFIRM_CANCELLED = "CONFIRM_CANCELLED"  # 409, the order confirmation dialog was cancelled
UNKNOWN_CODE = "UNKNOWN_CODE"  # 404
UNKNOWN_ORDER = "UNKNOWN_ORDER"  # 404
COMM_FAILURE = "COMM_FAILURE"  # 502, BlockRequest 1/3 or an answer without its number
COM_ERROR = "COM_ERROR"  # 502, a COM call raised; detail is the COM error text
UNAUTHORIZED = "UNAUTHORIZED"  # 401
INVALID = "INVALID"  # 422, bad input
INTERNAL = "INTERNAL"  # 500, a bug in the bridge itself; Creon may have acted


class BridgeError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        sent: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.sent = sent


def com_error_text(exc: BaseException) -> str:
    """The words of a COM exception: pywintypes.com_error's message and description.

    ``com_error.args`` is ``(hresult, message, excepinfo, argerror)`` where
    ``excepinfo`` is ``(wcode, source, description, helpfile, helpcontext,
    scode)`` or None; anything else is shown as ``str(exc)``.
    """
    args = exc.args
    if len(args) >= 3 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1]
        info = args[2]
        if isinstance(info, tuple) and len(info) > 2 and info[2]:
            source = f"{info[1]}: " if len(info) > 1 and info[1] else ""
            text = f"{text} {source}{info[2]}"
        return f"{text} (hresult {args[0] & 0xFFFFFFFF:#010x})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
