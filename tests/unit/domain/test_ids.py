from __future__ import annotations

import random
import uuid

from jts.domain.ids import namespace_bytes
from jts.domain.ids import uuid5_hex
from jts.domain.ids import uuid5_text


def test_the_digest_ids_are_uuid5_to_the_last_character() -> None:
    rng = random.Random(5)
    for _ in range(2_000):
        namespace = uuid.UUID(int=rng.getrandbits(128))
        name = "".join(rng.choice("abcKRX:|0123456789-é한") for _ in range(rng.randint(0, 40)))
        expected = uuid.uuid5(namespace, name)
        assert uuid5_text(namespace.bytes, name) == str(expected)
        assert uuid5_hex(namespace.bytes, name) == expected.hex


def test_a_namespace_is_its_uuid_bytes() -> None:
    text = "6f1d8a52-3c4b-5e7f-9a0b-1c2d3e4f5a6b"
    assert namespace_bytes(text) == uuid.UUID(text).bytes
