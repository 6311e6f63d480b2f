"""A backtest's strategy parameters as stored: JSON text, the same for SQL and memory.

JSON has no decimal or date type: a Decimal is kept as its text and a date or time as
ISO-8601, so every store hands back the same plain values. Anything else is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from jts.domain.errors import StorageError


def params_json(params: Mapping[str, object], run_id: str) -> str:
    try:
        return json.dumps(dict(params), sort_keys=True, default=_json_value)
    except TypeError as exc:
        raise StorageError(f"backtest {run_id}: params are not JSON: {exc}") from None


def params_from_json(text: str) -> dict[str, object]:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise StorageError(f"stored backtest params are not a JSON object: {text[:80]!r}")
    return loaded


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    raise TypeError(f"{type(value).__name__} {value!r}")
