"""The fake's seeded price table: today's quote and the daily and minute history charts read.

Seeded from a fixed random walk so every run (and both sides of a test) sees
the same bars; today's close is exactly the listing's reference price.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

from jts.domain.ticks import TickRule

KST = timezone(timedelta(hours=9), "KST")
SESSION_MINUTES = 390  # 09:00-15:30
TICKS = TickRule.krx_stock()

DEFAULT_LISTINGS: dict[str, tuple[str, int, int]] = {
    # code: (name, market kind 1 KOSPI / 2 KOSDAQ, reference price)
    "A005930": ("삼성전자", 1, 70_000),
    "A000660": ("SK하이닉스", 1, 180_000),
    "A035720": ("카카오", 1, 45_000),
    "A247540": ("에코프로비엠", 2, 250_000),
}

DayRow = tuple[int, int, int, int, int, int]  # (yyyymmdd, open, high, low, close, volume)
MinuteRow = tuple[int, int, int, int, int, int, int]  # (yyyymmdd, hhmm end, o, h, l, c, v)


@dataclass
class Listing:
    code: str
    name: str
    market: int
    prev_close: int
    price: int
    open: int
    high: int
    low: int
    volume: int
    days: list[DayRow] = field(default_factory=list)  # oldest first, today last
    minutes: list[MinuteRow] = field(default_factory=list)  # oldest first

    def upper_limit(self) -> int:
        return int(TICKS.round_down(Decimal(self.prev_close) * Decimal("1.3")))

    def lower_limit(self) -> int:
        return int(TICKS.round_up(Decimal(self.prev_close) * Decimal("0.7")))

    def traded(self, price: int, volume: int) -> None:
        self.price = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += volume


def seed_listing(
    rng: random.Random,
    code: str,
    name: str,
    market: int,
    reference: int,
    today: date,
    days: int,
    minute_days: int,
) -> Listing:
    sessions: list[date] = []
    day = today
    while len(sessions) < days:
        if day.weekday() < 5:
            sessions.append(day)
        day -= timedelta(days=1)
    sessions.reverse()
    # Walk backwards from the reference so today's price is exactly the reference.
    closes = [Decimal(reference)]
    for _ in sessions[1:]:
        closes.append(TICKS.round_nearest(closes[-1] * Decimal(1 + rng.uniform(-0.02, 0.02))))
    closes.reverse()
    rows: list[DayRow] = []
    previous = closes[0]
    for session, close in zip(sessions, closes, strict=True):
        open_ = TICKS.round_nearest(previous * Decimal(1 + rng.uniform(-0.01, 0.01)))
        high = TICKS.round_up(max(open_, close) * Decimal(1 + rng.uniform(0, 0.01)))
        low = TICKS.round_down(min(open_, close) * Decimal(1 - rng.uniform(0, 0.01)))
        volume = rng.randint(100_000, 2_000_000)
        ymd = int(session.strftime("%Y%m%d"))
        rows.append((ymd, int(open_), int(high), int(low), int(close), volume))
        previous = close
    last = rows[-1]
    prev_close = rows[-2][4] if len(rows) > 1 else last[1]
    listing = Listing(
        code, name, market, prev_close, last[4], last[1], last[2], last[3], last[5], rows
    )
    _seed_minutes(rng, listing, minute_days)
    return listing


def _seed_minutes(rng: random.Random, listing: Listing, days: int) -> None:
    for ymd, open_, high, low, close, volume in listing.days[-days:]:
        price = Decimal(open_)
        per_minute = max(1, volume // SESSION_MINUTES)
        for k in range(1, SESSION_MINUTES + 1):
            end = datetime(2000, 1, 1, 9, 0, tzinfo=KST) + timedelta(minutes=k)
            target = Decimal(close) if k == SESSION_MINUTES else price
            step = target * Decimal(1 + rng.uniform(-0.002, 0.002))
            nxt = min(Decimal(high), max(Decimal(low), TICKS.round_nearest(step)))
            o, c = int(price), int(nxt if k < SESSION_MINUTES else Decimal(close))
            listing.minutes.append(
                (ymd, end.hour * 100 + end.minute, o, max(o, c), min(o, c), c, per_minute)
            )
            price = Decimal(c)


def minute_rows(minutes: Sequence[MinuteRow], period: int) -> list[dict[int, Any]]:
    """1-minute rows folded into ``period``-minute bars, each labelled with its end minute."""
    rows: list[dict[int, Any]] = []
    for k, (ymd, hhmm, o, h, lo, c, v) in enumerate(minutes):
        index = k % SESSION_MINUTES  # 0-based minute of the session
        if index % period == 0 or not rows:
            rows.append({0: ymd, 1: hhmm, 2: o, 3: h, 4: lo, 5: c, 8: v})
            continue
        bar = rows[-1]
        bar.update({1: hhmm, 3: max(bar[3], h), 4: min(bar[4], lo), 5: c, 8: bar[8] + v})
    return rows
