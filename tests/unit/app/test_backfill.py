"""Backfill from a broker mends only the store's gaps, within the broker's budget."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import CANO
from fakes.kis_venue import account_config
from fakes.kis_venue import kis_settings
from jts.app.backfill import backfill
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.common.calendars import known_calendar
from jts.brokers.kis.data import KisMarketData
from jts.brokers.kis.session import open_session
from jts.core.bar_checks import BarChecks
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MINUTE as MINUTE
from jts.storage.clickhouse.store import ClickHouseBarStore

DAY = date(2026, 3, 3)
SAMSUNG = "KRX:005930"


AUCTION_VOLUME = 250_000


def session_rows(
    skip: set[str], *, seconds: dict[str, str] | None = None
) -> list[tuple[str, str, Decimal, Decimal, Decimal, Decimal, int]]:
    """A KIS day: 09:00 .. 15:29, then the 15:30 row of the closing auction's one print.

    ``seconds`` restamps a row (``{"101500": "101512"}``) as KIS sometimes stamps them.
    """
    start = datetime(2026, 3, 3, 9, 0)
    rows = []
    for i in range(391):
        t = (start + timedelta(minutes=i)).strftime("%H%M%S")
        if t in skip:
            continue
        p = Decimal(70_000 + 100 * (i % 5))
        volume = AUCTION_VOLUME if t == "153000" else 500
        rows.append(("20260303", (seconds or {}).get(t, t), p, p + 100, p - 100, p, volume))
    return rows


async def test_backfill_fills_gaps_once_and_reports_what_the_venue_lacks(tmp_path: Path) -> None:
    calendar = calendar_for_venue("KRX")
    async with FakeKis() as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.add_minute_bars("005930", session_rows(skip={"101500"}))  # no trade at 10:15
        settings = kis_settings([account_config(fake)], tmp_path)
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path / "state")
        client = KisMarketData(session.rest, [SAMSUNG])
        await client.connect()
        store = await ClickHouseBarStore.open(None, tmp_path)
        try:
            open_ns, close_ns = calendar.session_bounds(DAY)
            # The store already holds the first hour.
            first_hour = await client.historical_bars(
                SAMSUNG, open_ns, open_ns + 3_600 * 10**9, Timeframe.M1
            )
            assert await store.write_bars(first_hour) == 60
            calls_before = len(fake.requests)
            [result] = await backfill(client, store, calendar, [SAMSUNG], [DAY])
            assert result.missing == 391 - 60
            assert result.written == 391 - 60 - 1
            assert result.still_missing == 1
            stored = await store.read_bars(SAMSUNG, open_ns, close_ns + MINUTE, Timeframe.M1)
            assert len(stored) == 390
            # The closing auction's bar is stored, and with it the auction's volume.
            assert stored[-1].ts == close_ns and stored[-1].volume == AUCTION_VOLUME
            # Paging started at the end of the gap, not at the close, and stopped at its start.
            assert len(fake.requests) - calls_before <= 4
            again = await backfill(client, store, calendar, [SAMSUNG], [DAY])
            assert again[0].written == 0
            # A mending loop remembers what the venue had nothing for and stops asking.
            empty: set[tuple[str, int, int]] = set()
            await backfill(client, store, calendar, [SAMSUNG], [DAY], known_empty=empty)
            assert len(empty) == 1
            calls = len(fake.requests)
            await backfill(client, store, calendar, [SAMSUNG], [DAY], known_empty=empty)
            assert len(fake.requests) == calls
        finally:
            await store.close()
            await client.disconnect()


async def test_backfill_refuses_what_live_data_would_refuse(tmp_path: Path) -> None:
    calendar = calendar_for_venue("KRX")
    rows = session_rows(skip=set())
    absurd = Decimal(2 * 10**12)  # above any price the checks accept
    rows[30] = ("20260303", rows[30][1], absurd, absurd, absurd, absurd, 500)
    async with FakeKis() as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.add_minute_bars("005930", rows)
        settings = kis_settings([account_config(fake)], tmp_path)
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path / "state")
        client = KisMarketData(session.rest, [SAMSUNG])
        await client.connect()
        store = await ClickHouseBarStore.open(None, tmp_path)
        try:
            checks = BarChecks(known_calendar)
            [result] = await backfill(client, store, calendar, [SAMSUNG], [DAY], checks=checks)
            assert result.written == 390 and result.still_missing == 1
            open_ns, close_ns = calendar.session_bounds(DAY)
            stored = await store.read_bars(SAMSUNG, open_ns, close_ns, Timeframe.M1)
            assert absurd not in {bar.close for bar in stored}
        finally:
            await store.close()
            await client.disconnect()


async def test_rows_stamped_with_seconds_are_mended_once(tmp_path: Path) -> None:
    calendar = calendar_for_venue("KRX")
    rows = session_rows(skip=set(), seconds={"101500": "101512", "153000": "153004"})
    async with FakeKis() as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.add_minute_bars("005930", rows)
        settings = kis_settings([account_config(fake)], tmp_path)
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path / "state")
        client = KisMarketData(session.rest, [SAMSUNG])
        await client.connect()
        store = await ClickHouseBarStore.open(None, tmp_path)
        try:
            [first] = await backfill(client, store, calendar, [SAMSUNG], [DAY])
            assert first.written == 391 and first.still_missing == 0
            # Each row landed on its minute, so the second run finds nothing to ask for.
            calls = len(fake.requests)
            [again] = await backfill(client, store, calendar, [SAMSUNG], [DAY])
            assert again.missing == 0 and again.written == 0
            assert len(fake.requests) == calls
            open_ns, close_ns = calendar.session_bounds(DAY)
            stored = await store.read_bars(SAMSUNG, open_ns, close_ns + MINUTE, Timeframe.M1)
            assert len(stored) == 391 and all(b.ts % MINUTE == 0 for b in stored)
        finally:
            await store.close()
            await client.disconnect()
