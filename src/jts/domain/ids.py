"""Name-based (version 5) UUIDs without building a ``uuid.UUID`` on the way.

Order, client order and signal ids are derived from names so equal runs store equal
orders; one signal derives three. ``uuid.uuid5`` builds a ``UUID`` (an int and checks)
only to print it; these give the same text from the SHA-1 digest directly.
"""

from __future__ import annotations

import uuid
from hashlib import sha1


def uuid5_hex(namespace: bytes, name: str) -> str:
    """``uuid.uuid5(UUID(bytes=namespace), name).hex``: 32 lowercase hex digits."""
    digest = bytearray(sha1(namespace + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def uuid5_text(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))``: the hyphenated form."""
    h = uuid5_hex(namespace, name)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def namespace_bytes(text: str) -> bytes:
    """A namespace UUID's 16 bytes, checked once where it is defined."""
    return uuid.UUID(text).bytes
