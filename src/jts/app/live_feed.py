"""``jts serve market-data`` on a live broker (KIS or Creon): stream, store, mend gaps.

The broker's stream feeds the same collector as the simulated feed (bars are
validated, stored and published; bad ones quarantined). At start and every
``feed.gap_check_interval`` the store is compared with the calendar and missing
minutes are fetched from the broker's candles within its rate budget, so a
socket outage or a restart leaves no hole in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from jts.app.backfill import backfill
from jts.app.checks import bar_checks
from jts.app.checks import collector_config
from jts.app.market_store import open_market_store
from jts.app.service_process import Periodic
from jts.app.service_process import ServiceProcess
from jts.app.service_process import bus_check
from jts.app.service_process import closing
from jts.app.service_process import collector_stats
from jts.app.service_process import store_check
from jts.app.settings import Settings
from jts.app.venues import broker_market_data
from jts.app.venues import broker_symbols
from jts.app.venues import recent_sessions
from jts.brokers.common.calendars import calendar_for_venue
from jts.bus.kafka import KafkaMessageBus
from jts.core.clocks import LiveClock
from jts.domain.errors import ConfigurationError
from jts.services.kernel import build_collector

log = logging.getLogger("jts.serve.live_feed")


async def live_market_data(settings: Settings, bus: KafkaMessageBus) -> ServiceProcess:
    source = settings.feed.source
    symbols = broker_symbols(settings, source)
    if not symbols:
        raise ConfigurationError(
            f"feed.source {source!r} needs symbols (feed.symbols or kis.universe)"
        )
    client = broker_market_data(settings, source)
    bar_store, journal = await open_market_store(settings)
    calendar = calendar_for_venue("KRX")
    clock = LiveClock()
    # Live bars are stored every minute (one bar per symbol), not held for a big batch.
    collector = build_collector(
        bus,
        clock,
        collector_config(settings, flush_bars=max(1, len(symbols))),
        bar_store=bar_store,
        bar_journal=journal,
    )
    # Minutes published before a restart are not published again when the broker resends them.
    latest = await bar_store.latest_bars(symbols)
    collector.resume_after({key: bar.ts for key, bar in latest.items()})
    progress: dict[str, Any] = {"feed": f"live {source}, {len(symbols)} symbols", "mended": 0}
    # Ranges the broker had no bars for (no trade then): not asked again by this process.
    known_empty: set[tuple[str, int, int]] = set()

    async def mend() -> None:
        today = clock.utc_now().date()
        days = recent_sessions(calendar, today, settings.feed.backfill_sessions)
        results = await backfill(
            client,
            bar_store,
            calendar,
            symbols,
            days,
            now_ns=clock.timestamp_ns(),
            known_empty=known_empty,
            checks=bar_checks(settings, not_after_ns=clock.timestamp_ns()),
        )
        written = sum(r.written for r in results)
        progress["mended"] += written
        if written:
            log.info("gap fill: %d bars from %s", written, source)

    async def feed(stop: asyncio.Event) -> None:
        await client.connect()
        stream = client.stream()
        stopping = asyncio.create_task(stop.wait())
        try:
            await mend()
            while True:
                # A live stream can be quiet for minutes: SIGTERM must not wait for it.
                following = asyncio.ensure_future(anext(stream))
                await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not following.done():
                    following.cancel()
                    await asyncio.gather(following, return_exceptions=True)
                    return
                try:
                    batch = following.result()
                except StopAsyncIteration:
                    return
                await collector.ingest(batch)
        finally:
            stopping.cancel()
            close = getattr(stream, "aclose", None)  # async generators end their polling tasks
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
            with contextlib.suppress(Exception):
                await collector.flush()
            await client.disconnect()

    return ServiceProcess(
        name="market-data",
        bus=bus,
        components=[
            collector,
            Periodic("bar-flush", 60.0, collector.flush),
            Periodic("gap-fill", settings.feed.gap_check_interval, mend),
        ],
        checks={"bus": bus_check(bus), "clickhouse": store_check(bar_store)},
        stats=collector_stats(collector, bus, progress),
        foreground=feed,
        closers=[bar_store.close, closing(journal)],
    )
