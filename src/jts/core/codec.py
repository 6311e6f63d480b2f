"""Wire format of bus events: UTF-8 JSON, tagged by ``type`` and ``version``.

The one place events become bytes and bytes become events (Kafka, the outbox, dead
letters). Decimals travel as JSON strings, so no precision is lost. Decoding validates
strictly, once: unknown fields, a wrong type or a value its domain class refuses (a bar
whose high is below its low) are a ``DataError``, so a transport (Kafka) can
dead-letter the message instead of crashing its consumer. Hot-path code never decodes.

Version 1 of the bar, tick, signal and fill events copied the domain value's fields
into the event; version 2 embeds the value. Version-1 messages still in an outbox or on
a topic are upgraded as they are read.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from typing import Union

import msgspec

from jts.domain.errors import DataError
from jts.domain.events import EVENT_TYPES
from jts.domain.events import Event

_ENCODER = msgspec.json.Encoder(decimal_format="string")
_DECODER: msgspec.json.Decoder[Event] = msgspec.json.Decoder(
    Union[tuple(EVENT_TYPES.values())]  # noqa: UP007
)
_RAW = msgspec.json.Decoder()

_ENVELOPE = ("event_id", "ts", "source", "key")


def encode_event(event: Event) -> bytes:
    """Serialise ``event``; Decimals become JSON strings, so no precision is lost."""
    return _ENCODER.encode(event)


def decode_event(data: bytes) -> Event:
    """Rebuild the event class named by the payload's ``type`` at its ``version``."""
    try:
        event = _DECODER.decode(data)
    except (msgspec.ValidationError, DataError, msgspec.DecodeError, ArithmeticError) as exc:
        # ArithmeticError: a domain check compared a NaN (decimal.InvalidOperation).
        return _decode_slowly(data, exc)
    if event.version != event.VERSION:
        return _decode_slowly(data, None)
    # msgspec reads "Infinity" and "NaN" as Decimals; money never is one. Only a payload
    # that spells one (any case) is searched: the usual event costs a lower() and two finds
    # (a fifth of the decode; a case-insensitive regex took longer than the decode).
    lowered = data.lower()
    if (b"nan" in lowered or b"inf" in lowered) and not _finite(event):
        raise DataError(f"invalid {event.type!r} event: a number is not finite")
    return event


def _finite(value: object) -> bool:
    """False when a Decimal anywhere in ``value`` (event, domain value, tuple) is not finite."""
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, tuple):
        return all(_finite(item) for item in value)
    cls = type(value)
    names: tuple[str, ...] | dict[str, object] = getattr(cls, "__struct_fields__", ()) or getattr(
        cls, "__dataclass_fields__", ()
    )
    return all(_finite(getattr(value, name)) for name in names)


def _decode_slowly(data: bytes, failure: Exception | None) -> Event:
    """Explain why ``data`` is not a current event, or upgrade an older version."""
    try:
        raw = _RAW.decode(data)
    except msgspec.DecodeError as exc:
        raise DataError(f"event is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"event must be a JSON object, got {type(raw).__name__}")
    event_type = raw.get("type")
    event_cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise DataError(f"unknown event type {event_type!r} (known: {known})")
    version = raw.get("version")
    if version == event_cls.VERSION:
        reason = "a number is not finite" if isinstance(failure, ArithmeticError) else failure
        raise DataError(f"invalid {event_type!r} event: {reason}") from failure
    upgrade = _UPGRADES.get((event_cls.TYPE, version))
    if upgrade is None:
        raise DataError(
            f"unsupported version {version!r} of event type {event_type!r}"
            f" (supported: {event_cls.VERSION})"
        )
    try:
        current = upgrade(raw)
    except (KeyError, TypeError) as exc:
        raise DataError(f"invalid {event_type!r} event (version {version}): {exc!r}") from exc
    current["version"] = event_cls.VERSION
    return decode_event(_ENCODER.encode(current))


def _lift(raw: dict[str, Any], field: str, value: dict[str, Any]) -> dict[str, Any]:
    """The version-2 shape: the envelope plus the domain value under ``field``."""
    lifted = {name: raw[name] for name in _ENVELOPE}
    lifted["type"] = raw["type"]
    lifted[field] = value
    return lifted


def _bar_v1(raw: dict[str, Any]) -> dict[str, Any]:
    names = ("instrument_id", "timeframe", "open", "high", "low", "close", "volume")
    bar = {name: raw[name] for name in names} | {"ts": raw["bar_ts"]}
    return _lift(raw, "bar", bar)


def _tick_v1(raw: dict[str, Any]) -> dict[str, Any]:
    tick = {name: raw[name] for name in ("instrument_id", "price", "size")}
    return _lift(raw, "tick", tick | {"ts": raw["tick_ts"]})


def _signal_v1(raw: dict[str, Any]) -> dict[str, Any]:
    names = ("signal_id", "strategy_id", "instrument_id", "side", "price", "strength", "reason")
    signal = {name: raw[name] for name in names} | {"ts": raw["signal_ts"]}
    return _lift(raw, "signal", signal)


def _fill_v1(raw: dict[str, Any]) -> dict[str, Any]:
    names = (
        "fill_id",
        "order_id",
        "client_order_id",
        "instrument_id",
        "side",
        "quantity",
        "price",
        "commission",
        "tax",
        "liquidity",
    )
    fill = {name: raw[name] for name in names} | {"ts": raw["fill_ts"]}
    return _lift(raw, "fill", fill)


_UPGRADES: dict[tuple[str, object], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("market.bar", 1): _bar_v1,
    ("market.tick", 1): _tick_v1,
    ("signal", 1): _signal_v1,
    ("order.fill", 1): _fill_v1,
}
