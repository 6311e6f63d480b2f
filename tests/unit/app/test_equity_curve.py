from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jts.app.equity import EquityCurve
from jts.app.equity import drawdowns
from jts.app.equity import max_drawdown
from jts.app.equity import sparkline
from jts.app.plot import equity_svg
from jts.app.plot import write_equity_svg
from jts.domain.timestamps import dt_to_ns

MINUTE = 60_000_000_000
OPEN = dt_to_ns(datetime(2026, 11, 2, 9, 1, tzinfo=ZoneInfo("Asia/Seoul")))


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    values = [Decimal(v) for v in (100, 120, 90, 130, 117, 140)]
    assert max_drawdown(values) == Decimal(30) / Decimal(120)
    assert max_drawdown([Decimal(1), Decimal(2), Decimal(3)]) == 0
    assert max_drawdown([]) == 0
    assert drawdowns(values)[2] == max(drawdowns(values))


def test_curve_memory_stays_bounded_and_keeps_the_whole_span() -> None:
    curve = EquityCurve(capacity=64)
    for i in range(10_000):
        curve.add(i, Decimal(i))
    assert len(curve.points) < 64
    assert curve.points[0] == (0, Decimal(0))
    assert curve.points[-1][0] > 9_000


def test_the_curve_ends_at_the_latest_sample_and_the_final_state() -> None:
    curve = EquityCurve(capacity=8)
    for i in range(1, 21):
        curve.add(i, Decimal(i))
    assert curve.points[-1] != (20, Decimal(20))  # thinned away ...
    assert curve.curve()[-1] == (20, Decimal(20))  # ... but the curve still ends there
    assert curve.curve(final=(20, Decimal(20)))[-1] == (20, Decimal(20))
    assert curve.curve(final=(21, Decimal(5)))[-2:] == ((20, Decimal(20)), (21, Decimal(5)))
    assert EquityCurve().curve(final=(1, Decimal(1))) == ((1, Decimal(1)),)


def test_sparkline_maps_low_to_lowest_block_and_high_to_highest() -> None:
    line = sparkline([Decimal(1), Decimal(5), Decimal(9)], width=10)
    assert line == "▁▄█"
    assert len(sparkline([Decimal(i) for i in range(500)], width=40)) == 40
    assert sparkline([]) == ""


def test_svg_chart_is_valid_and_marks_the_worst_drawdown(tmp_path: Path) -> None:
    points = [(OPEN + i * MINUTE, Decimal(v)) for i, v in enumerate((100, 110, 88, 120))]
    root = ET.fromstring(equity_svg(points, "run"))
    assert root.tag.endswith("svg")
    assert "worst -20.00%" in equity_svg(points, "run")
    assert write_equity_svg(tmp_path / "r" / "eq.svg", points, "run") is not None
    assert write_equity_svg(tmp_path / "none.svg", points[:1], "run") is None
    with pytest.raises(ValueError):
        equity_svg(points[:1], "run")


def test_svg_chart_shows_the_final_equity_and_market_time_in_kst() -> None:
    points = [(OPEN + i * MINUTE, Decimal(v)) for i, v in enumerate((1_000, 1_100, 990, 1_050))]
    svg = equity_svg(points, "run")
    assert "final 1,050" in svg
    assert "worst -10.00%" in svg  # 1,100 -> 990, exactly as max_drawdown says
    assert f"{max_drawdown([v for _, v in points]):.2%}" == "10.00%"
    labels = re.findall(r">(\d{4}-\d\d-\d\d \d\d:\d\d[^<]*)<", svg)
    assert labels == ["2026-11-02 09:01 KST", "2026-11-02 09:04 KST"]
    assert "UTC" not in svg
    assert equity_svg(points, "run") == svg  # a pure function of the points
