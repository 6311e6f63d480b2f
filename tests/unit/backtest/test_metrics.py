"""Backtest metrics computed by hand from small curves."""

from __future__ import annotations

import random
from datetime import date
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.backtest.metrics import annualised_sharpe
from jts.backtest.metrics import daily_closes
from jts.backtest.metrics import daily_returns
from jts.backtest.metrics import drawdowns
from jts.backtest.metrics import max_drawdown
from jts.backtest.metrics import measure
from jts.domain.enums import Side
from jts.domain.fills import Fill
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import kst_date

KST = ZoneInfo("Asia/Seoul")
D = Decimal


def at(day: int, hour: int, minute: int = 0) -> int:
    return dt_to_ns(datetime(2026, 11, day, hour, minute, tzinfo=KST))


def fill(order: str, side: Side, commission: int, tax: int = 0) -> Fill:
    return Fill(
        fill_id=f"F-{order}-{commission}",
        order_id=order,
        client_order_id=order,
        instrument_id="KRX:005930",
        side=side,
        quantity=D(10),
        price=D(70_000),
        commission=D(commission),
        tax=D(tax),
        ts=at(2, 10),
    )


# Three sessions: 1,000,000 -> 1,010,000 -> 999,900 -> 1,019,898 at each day's last sample.
CURVE = [
    (at(2, 9, 1), D(1_000_000)),
    (at(2, 12), D(1_020_000)),
    (at(2, 15, 30), D(1_010_000)),
    (at(3, 11), D(1_030_200)),
    (at(3, 15, 30), D(999_900)),
    (at(4, 15, 30), D(1_019_898)),
]


def test_daily_returns_take_each_kst_days_last_equity_from_the_start() -> None:
    assert [equity for _, equity in daily_closes(CURVE)] == [D(1_010_000), D(999_900), 1_019_898]
    assert daily_returns(CURVE) == [D("0.01"), D("-0.01"), D("0.02")]


def test_sharpe_is_mean_over_sample_std_times_sqrt_252() -> None:
    # mean 0.02/3; deviations 1/300, -5/300, 4/300 -> variance (1+25+16)/90000/2 = 42/180000.
    mean = D("0.02") / 3
    std = (D(42) / D(180_000)).sqrt()
    expected = (mean / std * D(252).sqrt()).quantize(D("0.000001"))
    assert annualised_sharpe(daily_returns(CURVE)) == expected
    assert float(expected) == pytest.approx(6.928203, abs=1e-6)
    assert annualised_sharpe([D("0.01")]) is None
    assert annualised_sharpe([D("0.01"), D("0.01")]) is None  # no variation, no ratio


def test_measure_totals_the_run() -> None:
    fills = [
        fill("A", Side.BUY, 105),
        fill("A", Side.BUY, 100),
        fill("B", Side.SELL, 105, 1_400),
    ]
    metrics = measure(CURVE, fills)
    assert metrics.total_return == D("0.019898")
    # Peak 1,030,200 then 999,900: a fall of 30,300 / 1,030,200.
    assert metrics.max_drawdown == (D(30_300) / D(1_030_200)).quantize(D("1E-10"))
    assert (metrics.trades, metrics.fills) == (2, 3)
    assert (metrics.commission, metrics.tax) == (D(310), D(1_400))
    assert metrics.starting_equity == D(1_000_000)
    assert metrics.final_equity == D(1_019_898)


def test_max_drawdown_is_the_largest_of_drawdowns_without_dividing_every_value() -> None:
    rng = random.Random(7)
    for _ in range(200):
        values = [D(rng.randint(-3, 40)) / D(rng.choice([1, 3, 7])) for _ in range(30)]
        assert max_drawdown(values) == max(drawdowns(values), default=D(0))
    assert max_drawdown([D(100), D(80), D(120), D(90), D(95), D(60)]) == D("0.5")
    assert max_drawdown([]) == 0


def test_daily_closes_group_by_kst_day_whatever_the_spacing_of_the_points() -> None:
    rng = random.Random(3)
    ts = dt_to_ns(datetime(1987, 5, 1, tzinfo=KST))  # Korea kept summer time in 1987-88
    points = []
    for n in range(3_000):
        ts += rng.choice([60, 3_600, 6 * 3_600, 86_400]) * 1_000_000_000
        points.append((ts, D(n)))
    by_day: dict[date, Decimal] = {}
    for when, equity in points:
        by_day[kst_date(when)] = equity
    assert daily_closes(points) == list(by_day.items())
