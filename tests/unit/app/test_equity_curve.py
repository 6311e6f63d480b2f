from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from jts.app.equity import EquityCurve
from jts.app.equity import max_drawdown
from jts.app.equity import sparkline
from jts.app.plot import equity_svg
from jts.app.plot import write_equity_svg


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    values = [Decimal(v) for v in (100, 120, 90, 130, 117, 140)]
    assert max_drawdown(values) == Decimal(30) / Decimal(120)
    assert max_drawdown([Decimal(1), Decimal(2), Decimal(3)]) == 0


def test_curve_memory_stays_bounded_and_keeps_the_whole_span() -> None:
    curve = EquityCurve(capacity=64)
    for i in range(10_000):
        curve.add(i, Decimal(i))
    assert len(curve.points) < 64
    assert curve.points[0] == (0, Decimal(0))
    assert curve.points[-1][0] > 9_000


def test_sparkline_maps_low_to_lowest_block_and_high_to_highest() -> None:
    line = sparkline([Decimal(1), Decimal(5), Decimal(9)], width=10)
    assert line == "▁▄█"
    assert len(sparkline([Decimal(i) for i in range(500)], width=40)) == 40
    assert sparkline([]) == ""


def test_svg_chart_is_valid_and_marks_the_worst_drawdown(tmp_path) -> None:
    points = [(i * 60_000_000_000, Decimal(v)) for i, v in enumerate((100, 110, 88, 120))]
    root = ET.fromstring(equity_svg(points, "run"))
    assert root.tag.endswith("svg")
    assert "worst -20.00%" in equity_svg(points, "run")
    assert write_equity_svg(tmp_path / "r" / "eq.svg", points, "run") is not None
    assert write_equity_svg(tmp_path / "none.svg", points[:1], "run") is None
    with pytest.raises(ValueError):
        equity_svg(points[:1], "run")
