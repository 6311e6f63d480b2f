"""Required request fields: blank is missing, zero is a value, every missing one is named."""

from __future__ import annotations

import pytest

from jts.brokers.common.requests import IncompleteRequest
from jts.brokers.common.requests import require_fields
from jts.domain.errors import BrokerUnavailable


def test_blank_and_absent_fields_are_named_zero_is_a_value() -> None:
    payload = {"ORD_QTY": "0", "ORD_UNPR": 0, "CANO": " ", "ODNO": None}
    require_fields("KIS", "order", payload, ("ORD_QTY", "ORD_UNPR"))
    with pytest.raises(IncompleteRequest) as refused:
        require_fields("KIS", "order", payload, ("ORD_QTY", "CANO", "ODNO", "PDNO"))
    assert refused.value.missing == ("CANO", "ODNO", "PDNO")
    assert "CANO, ODNO, PDNO" in str(refused.value)
    # Nothing was sent and a retry cannot help: neither transient nor "outcome unknown".
    assert not isinstance(refused.value, BrokerUnavailable)
