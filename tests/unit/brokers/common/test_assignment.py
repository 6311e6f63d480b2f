"""Splitting a universe over accounts: pins, capacity, failover and return."""

from __future__ import annotations

from jts.brokers.common.assignment import Slot
from jts.brokers.common.assignment import assign

UNIVERSE = [f"KRX:{i:06d}" for i in range(1, 1_801)]
KOSPI_LARGE = UNIVERSE[:600]
KOSDAQ_TECH = UNIVERSE[600:1_200]
SMALL_MOMENTUM = UNIVERSE[1_200:]


def roadmap_slots() -> list[Slot]:
    """The roadmap's example: three accounts of 600 symbols, each with a focus."""
    return [
        Slot("kis-1", 600, 40, tuple(KOSPI_LARGE), "KOSPI large-cap"),
        Slot("kis-2", 600, 40, tuple(KOSDAQ_TECH), "KOSDAQ tech"),
        Slot("kis-3", 600, 40, tuple(SMALL_MOMENTUM), "Small-cap momentum"),
    ]


def test_three_accounts_of_600_with_a_focus_each() -> None:
    result = assign(UNIVERSE, roadmap_slots(), {})
    assert result.symbols["kis-1"] == KOSPI_LARGE
    assert result.symbols["kis-2"] == KOSDAQ_TECH
    assert result.symbols["kis-3"] == SMALL_MOMENTUM
    assert result.unassigned == []
    assert result.streaming["kis-1"] == KOSPI_LARGE[:40]
    assert len(result.polled("kis-1")) == 560


def test_a_failed_account_hands_its_symbols_to_those_with_room_and_gets_them_back() -> None:
    slots = [
        Slot("a", 900, 40, tuple(UNIVERSE[:300])),
        Slot("b", 900, 40, tuple(UNIVERSE[300:600])),
        Slot("c", 900, 40),
    ]
    universe = UNIVERSE[:1_200]
    healthy = assign(universe, slots, {})
    assert sum(len(v) for v in healthy.symbols.values()) == 1_200
    failed = assign(universe, slots, {"b": False})
    assert "b" not in failed.symbols
    assert set(failed.moved) == set(UNIVERSE[300:600])
    assert sum(len(v) for v in failed.symbols.values()) == 1_200
    assert all(len(v) <= 900 for v in failed.symbols.values())
    back = assign(universe, slots, {"b": True})
    assert back.symbols == healthy.symbols


def test_what_does_not_fit_is_reported_not_dropped_silently() -> None:
    slots = [Slot("a", 600, 40), Slot("b", 600, 40)]
    result = assign(UNIVERSE, slots, {"b": False})
    assert len(result.symbols["a"]) == 600
    assert len(result.unassigned) == 1_200
