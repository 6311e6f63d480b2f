"""Wire format of bus events: UTF-8 JSON of the pydantic model, tagged by ``type`` and ``version``.

Decoding refuses anything it cannot turn into a known event with ``DataError`` so a
transport (Kafka) can dead-letter the message instead of crashing its consumer.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from jts.domain.errors import DataError
from jts.domain.events import EVENT_TYPES
from jts.domain.events import Event


def encode_event(event: Event) -> bytes:
    """Serialise ``event``; Decimals become JSON strings, so no precision is lost."""
    return event.model_dump_json().encode("utf-8")


def decode_event(data: bytes) -> Event:
    """Rebuild the event class named by the payload's ``type`` at its ``version``."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"event is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"event must be a JSON object, got {type(raw).__name__}")
    event_type = raw.get("type")
    event_cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise DataError(f"unknown event type {event_type!r} (known: {known})")
    version = raw.get("version")
    if version != event_cls.VERSION:
        raise DataError(
            f"unsupported version {version!r} of event type {event_type!r}"
            f" (supported: {event_cls.VERSION})"
        )
    try:
        return event_cls.model_validate_json(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '<event>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DataError(f"invalid {event_type!r} event: {problems}") from exc
