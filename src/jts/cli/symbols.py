"""Instrument ids typed by a user: ``005930`` means ``KRX:005930``; a malformed one is refused.

A filter on a misspelt id silently matches nothing, which reads as "no orders"; refusing
it names the mistake instead.
"""

from __future__ import annotations

import re

from jts.brokers.common.calendars import calendar_for_venue
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import KRX
from jts.domain.instruments import InstrumentId

# KRX short codes: six characters, digits with letters in newer listings (e.g. 0126Z0).
_KRX_CODE = re.compile(r"[0-9][0-9A-Z]{5}")


def instrument_argument(value: str, option: str = "--symbol") -> str:
    """The canonical ``VENUE:CODE`` for what was typed, or a ConfigurationError saying why not."""
    text = value.strip()
    if ":" not in text:
        if _KRX_CODE.fullmatch(text.upper()):
            return f"{KRX}:{text.upper()}"
        raise ConfigurationError(
            f"{option} {value!r}: expected a KRX code like 005930 or VENUE:CODE like KRX:005930"
        )
    try:
        parsed = InstrumentId.parse(text)
    except ValueError as exc:
        raise ConfigurationError(f"{option}: {exc}") from None
    try:
        calendar_for_venue(parsed.venue)
    except ConfigurationError:
        raise ConfigurationError(f"{option} {value!r}: unknown venue {parsed.venue!r}") from None
    if parsed.venue == KRX:
        if not _KRX_CODE.fullmatch(parsed.code.upper()):
            raise ConfigurationError(
                f"{option} {value!r}: a KRX code is six characters, like 005930"
            )
        return f"{KRX}:{parsed.code.upper()}"
    return str(parsed)
