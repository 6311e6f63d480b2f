"""Required fields of a venue request are checked before anything is sent.

A venue that receives an empty account number, order number or branch number
either refuses it with a code we cannot foresee or, worse, reads it as
something else. The adapter knows which fields a request needs (from the
venue's documents), so an empty one is refused here: the request provably
never left, and the error names the field, so the cause is plain.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping

from jts.domain.errors import BrokerError


class IncompleteRequest(BrokerError):
    """A required request field had no value; the request was not sent.

    Not a ``BrokerUnavailable``: repeating the same call cannot help, and nothing
    reached the venue, so it is never an ``OutcomeUnknown`` either.
    """

    def __init__(self, venue: str, what: str, missing: Iterable[str], why: str = "") -> None:
        self.venue = venue
        self.what = what
        self.missing = tuple(missing)
        super().__init__(
            f"{venue} {what}: not sent, required field(s) without a value: "
            + ", ".join(self.missing)
            + (f" ({why})" if why else "")
        )


def has_value(value: object) -> bool:
    """``None`` and blank strings are no value; ``0`` or ``"0"`` are values."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def require_fields(
    venue: str, what: str, payload: Mapping[str, object], required: Iterable[str]
) -> None:
    """Raise ``IncompleteRequest`` naming every required field that is absent or blank."""
    missing = [name for name in required if not has_value(payload.get(name))]
    if missing:
        raise IncompleteRequest(venue, what, missing)
