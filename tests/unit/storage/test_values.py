"""The value rules both stores apply: ids, times and money as a database keeps them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.errors import StorageError
from jts.storage.values import as_stored_decimal
from jts.storage.values import check_time
from jts.storage.values import parse_uuid


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("7.01E+4", "70100"),  # what Decimal.normalize() makes of 70100
        ("-1E+3", "-1000"),
        ("0E+2", "0"),
        ("0E-10", "0E-10"),  # a scale is kept
        ("1E-12", "1E-12"),
        ("0.10", "0.10"),
        ("91234567.123456789012", "91234567.123456789012"),
    ],
)
def test_amounts_keep_their_scale_and_lose_a_positive_exponent(given: str, stored: str) -> None:
    assert str(as_stored_decimal(Decimal(given))) == stored


def test_ints_become_decimals_and_floats_bools_and_infinities_are_refused() -> None:
    assert repr(as_stored_decimal(5)) == "Decimal('5')"
    for bad in (1.5, True, None, "1"):
        with pytest.raises(TypeError):
            as_stored_decimal(bad)
    for endless in (Decimal("NaN"), Decimal("-Infinity")):
        with pytest.raises(ValueError, match="finite"):
            as_stored_decimal(endless)


def test_ids_must_be_uuids_and_times_must_be_set() -> None:
    assert str(parse_uuid("A" * 32, "order id")) == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    with pytest.raises(StorageError, match="order id 'x' is not a UUID"):
        parse_uuid("x", "order id")
    check_time(1, "order X")
    with pytest.raises(StorageError, match="order X: timestamp 0 is not a time"):
        check_time(0, "order X")
