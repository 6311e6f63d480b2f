from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import DataError
from jts.domain.events import EVENT_TYPES
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import MinuteMark
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.domain.events import PortfolioSnapshot
from jts.domain.events import PositionSnapshot
from jts.domain.events import RiskAlert
from jts.domain.events import SignalEvent
from jts.domain.events import TickEvent
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.signals import Signal

TS = 1_700_000_000_000_000_000


def _all_events() -> list[Event]:
    bar = Bar(
        "KRX:005930",
        Timeframe.M1,
        TS,
        Decimal("70100"),
        Decimal("70300"),
        Decimal("70000"),
        Decimal("70150.5"),
        Decimal("12345"),
    )
    order = Order(
        instrument_id="KRX:005930",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("10"),
        price=Decimal("70100"),
        created_ts=TS,
        broker="paper",
        strategy_id="s1",
    )
    fill = Fill(
        fill_id="f1",
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id="KRX:005930",
        side=Side.BUY,
        quantity=Decimal("10"),
        price=Decimal("70100"),
        commission=Decimal("105.15"),
        tax=Decimal("0"),
        ts=TS,
        liquidity=LiquiditySide.MAKER,
    )
    signal = Signal("s1", "UPBIT:KRW-BTC", Side.SELL, TS, Decimal("0.00012345"), Decimal("0.5"))
    return [
        BarEvent.from_bar(bar, ts=TS, source="md"),
        TickEvent.from_tick(
            Tick("KRX:005930", TS, Decimal("70100"), Decimal("3")), ts=TS, source="md"
        ),
        SignalEvent.from_signal(signal, ts=TS, source="engine"),
        OrderPending.from_order(order, ts=TS, source="exec"),
        OrderStatusChanged.from_order(order, OrderStatus.NEW, ts=TS, source="exec"),
        FillEvent.from_fill(fill, ts=TS, source="exec"),
        PortfolioSnapshot.of(
            ts=TS,
            source="pf",
            account="acct",
            cash=Decimal("1000000.00"),
            equity=Decimal("1701000.00"),
            realised_pnl=Decimal("0"),
            unrealised_pnl=Decimal("500"),
            fees=Decimal("105.15"),
            taxes=Decimal("0"),
            positions=(
                PositionSnapshot(
                    instrument_id="KRX:005930",
                    quantity=Decimal("10"),
                    avg_price=Decimal("70100"),
                    last_price=None,
                    realised_pnl=Decimal("0"),
                    unrealised_pnl=Decimal("500"),
                ),
            ),
        ),
        RiskAlert.of(
            ts=TS,
            source="exec",
            key="paper",
            account="paper",
            kind="foreign_order",
            detail="an order this platform did not place",
            halted=True,
            client_order_id="OUTSIDE1",
        ),
        MinuteMark.of("strategy-engine", TS, source="se", origin=2, origins=3).on(1, 3),
    ]


def test_every_event_type_round_trips_exactly() -> None:
    events = _all_events()
    assert {type(e) for e in events} == set(EVENT_TYPES.values())
    for event in events:
        decoded = decode_event(encode_event(event))
        assert type(decoded) is type(event)
        assert decoded == event


def test_decimals_travel_as_strings_without_precision_loss() -> None:
    signal = next(e for e in _all_events() if isinstance(e, SignalEvent))
    raw = json.loads(encode_event(signal))
    assert raw["signal"]["price"] == "0.00012345"
    assert raw["type"] == "signal"
    assert raw["version"] == 2
    decoded = decode_event(encode_event(signal))
    assert isinstance(decoded, SignalEvent)
    assert decoded.signal == signal.signal


def test_the_domain_value_is_embedded_not_copied() -> None:
    bar_event = _all_events()[0]
    assert isinstance(bar_event, BarEvent)
    raw = json.loads(encode_event(bar_event))
    assert set(raw) == {"type", "version", "event_id", "ts", "source", "key", "bar"}
    assert raw["bar"]["close"] == "70150.5"
    decoded = decode_event(encode_event(bar_event))
    assert isinstance(decoded, BarEvent)
    assert isinstance(decoded.bar, Bar)
    assert decoded.bar == bar_event.bar


def _bar_payload() -> dict[str, Any]:
    event = _all_events()[0]
    loaded: dict[str, Any] = json.loads(encode_event(event))
    return loaded


def test_unknown_type_is_a_data_error() -> None:
    payload = _bar_payload() | {"type": "market.quote"}
    with pytest.raises(DataError, match=r"unknown event type 'market.quote'"):
        decode_event(json.dumps(payload).encode())


def test_missing_type_is_a_data_error() -> None:
    payload = _bar_payload()
    del payload["type"]
    with pytest.raises(DataError, match="unknown event type None"):
        decode_event(json.dumps(payload).encode())


@pytest.mark.parametrize("version", [3, 0, "2", None])
def test_unsupported_version_is_a_data_error(version: object) -> None:
    payload = _bar_payload() | {"version": version}
    with pytest.raises(DataError, match=r"unsupported version .* of event type 'market\.bar'"):
        decode_event(json.dumps(payload).encode())


def test_a_current_shape_labelled_as_an_old_version_is_refused() -> None:
    payload = _bar_payload() | {"version": 1}
    with pytest.raises(DataError, match=r"invalid 'market.bar' event \(version 1\)"):
        decode_event(json.dumps(payload).encode())


def test_invalid_payload_names_the_field() -> None:
    payload = _bar_payload()
    payload["bar"]["close"] = "not-a-number"
    with pytest.raises(DataError, match=r"invalid 'market.bar' event: .*\$\.bar\.close"):
        decode_event(json.dumps(payload).encode())
    missing = _bar_payload()
    del missing["bar"]["instrument_id"]
    with pytest.raises(DataError, match="missing required field `instrument_id`"):
        decode_event(json.dumps(missing).encode())
    extra = _bar_payload() | {"surprise": 1}
    with pytest.raises(DataError, match="surprise"):
        decode_event(json.dumps(extra).encode())


def test_a_value_its_domain_class_refuses_is_a_data_error() -> None:
    payload = _bar_payload()
    payload["bar"]["low"] = "70400"  # above the high
    with pytest.raises(DataError, match=r"invalid 'market.bar' event: .*inconsistent OHLC"):
        decode_event(json.dumps(payload).encode())


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-inf", "sNaN"])
def test_a_number_that_is_not_finite_is_a_data_error(number: str) -> None:
    payload = _bar_payload()
    payload["bar"]["high"] = number
    with pytest.raises(DataError, match=r"invalid 'market.bar' event: .*(not finite|positive)"):
        decode_event(json.dumps(payload).encode())
    snapshot = json.loads(
        encode_event(next(e for e in _all_events() if e.type == "portfolio.snapshot"))
    )
    snapshot["positions"][0]["last_price"] = number
    with pytest.raises(DataError, match="not finite"):
        decode_event(json.dumps(snapshot).encode())


def test_text_that_merely_spells_inf_or_nan_is_fine() -> None:
    alert = next(e for e in _all_events() if isinstance(e, RiskAlert))
    wordy = msgspec.structs.replace(alert, detail="Infinite NaNs: info only")
    assert decode_event(encode_event(wordy)) == wordy


def _version_1(event: Event, field: str, renamed: dict[str, str]) -> dict[str, Any]:
    """The payload version 1 wrote: the domain value's fields copied into the event."""
    raw: dict[str, Any] = json.loads(encode_event(event))
    value = raw.pop(field)
    raw["version"] = 1
    for name, item in value.items():
        raw[renamed.get(name, name)] = item
    return raw


@pytest.mark.parametrize(
    ("event_type", "field", "ts_name"),
    [
        (BarEvent, "bar", "bar_ts"),
        (TickEvent, "tick", "tick_ts"),
        (SignalEvent, "signal", "signal_ts"),
        (FillEvent, "fill", "fill_ts"),
    ],
)
def test_version_1_messages_still_in_outboxes_and_topics_are_upgraded(
    event_type: type[Event], field: str, ts_name: str
) -> None:
    event = next(e for e in _all_events() if type(e) is event_type)
    old = _version_1(event, field, {"ts": ts_name}) | {"event_id": "0f" * 16}

    decoded = decode_event(json.dumps(old).encode())

    assert type(decoded) is event_type
    assert decoded.version == 2
    assert decoded.event_id == "0f" * 16  # a copy of the old message is still a copy
    assert getattr(decoded, field) == getattr(event, field)


def test_a_broken_version_1_message_is_a_data_error() -> None:
    event = next(e for e in _all_events() if isinstance(e, FillEvent))
    old = _version_1(event, "fill", {"ts": "fill_ts"})
    del old["fill_ts"]
    with pytest.raises(DataError, match=r"invalid 'order.fill' event \(version 1\).*fill_ts"):
        decode_event(json.dumps(old).encode())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "must be a JSON object, got list"),
    ],
)
def test_garbage_is_a_data_error(data: bytes, reason: str) -> None:
    with pytest.raises(DataError, match=reason):
        decode_event(data)
