"""KIS tokens, credentials and rate limits, against the fake KIS server."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import CANO
from fakes.kis_venue import SAMSUNG
from fakes.kis_venue import account_config
from fakes.kis_venue import kis_settings
from fakes.venue_harness import Reports
from jts.brokers.common.guard import RetryPolicy
from jts.brokers.kis.config import KisSettings
from jts.brokers.kis.credentials import load_credentials
from jts.brokers.kis.data import KisMarketData
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.session import open_session
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import ConfigurationError
from jts.domain.errors import RateLimited
from jts.domain.orders import Order


async def test_one_token_for_every_process_until_it_nears_expiry(tmp_path: Path) -> None:
    async with FakeKis() as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        settings = kis_settings([account_config(fake)], tmp_path)
        first = open_session(settings, settings.accounts[0], state_dir=tmp_path / "a")
        second = open_session(settings, settings.accounts[0], state_dir=tmp_path / "b")
        await asyncio.gather(first.rest.connect(), second.rest.connect())
        assert fake.token_issuances == 1  # the file lock made the second wait and reuse
        cache = settings.token_dir
        assert cache is not None
        files = list(cache.glob("token-*.json"))
        assert len(files) == 1
        assert files[0].stat().st_mode & 0o077 == 0
        assert APP_KEY not in files[0].name
        await first.rest.close()
        await second.rest.close()


async def test_an_expired_token_is_replaced_and_the_call_repeated(tmp_path: Path) -> None:
    async with FakeKis(token_issue_interval_seconds=0.2) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(71_000))
        settings = kis_settings([account_config(fake)], tmp_path, token_issue_interval=0.3)
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path)
        market = KisMarketData(session.rest, [SAMSUNG])
        await market.connect()
        fake.expire_tokens()
        assert await market.latest_price(SAMSUNG) == 71_000
        assert fake.token_issuances == 2
        await market.disconnect()


async def test_token_issuance_respects_the_one_per_minute_rule(tmp_path: Path) -> None:
    async with FakeKis(token_issue_interval_seconds=0.5) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(71_000))
        settings = kis_settings([account_config(fake)], tmp_path, token_issue_interval=0.6)
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path)
        await session.rest.connect()
        fake.expire_tokens()
        market = KisMarketData(session.rest, [SAMSUNG])
        # Our cache waits out the interval instead of being refused with EGW00133.
        assert await market.latest_price(SAMSUNG) == 71_000
        assert fake.token_issuances == 2
        await session.rest.close()


async def test_a_token_refusal_holds_every_process_sharing_the_cache_for_the_minute(
    tmp_path: Path,
) -> None:
    async with FakeKis(token_issue_interval_seconds=0.5) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        # Another program on the same app key, not sharing our cache, has just issued one.
        elsewhere = kis_settings([account_config(fake)], tmp_path / "elsewhere")
        outsider = open_session(elsewhere, elsewhere.accounts[0], state_dir=tmp_path / "o")
        await outsider.rest.connect()
        settings = kis_settings([account_config(fake)], tmp_path, token_issue_interval=0.6)
        first = open_session(settings, settings.accounts[0], state_dir=tmp_path / "a")
        second = open_session(settings, settings.accounts[0], state_dir=tmp_path / "b")
        with pytest.raises(RateLimited):
            await first.rest.connect()  # KIS: EGW00133, issued less than a minute ago
        assert fake.token_refusals == 1
        # The refusal is in the shared cache: the other process waits it out, not asking
        # KIS within the minute (which would be refused again), then gets its token.
        await second.rest.connect()
        assert fake.token_refusals == 1
        assert fake.token_issuances == 2
        for session in (outsider, first, second):
            await session.rest.close()


async def test_wrong_secret_is_a_clear_error_at_start_that_shows_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeKis() as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        wrong = "wrong/" + "y" * 174
        settings = kis_settings(
            [account_config(fake)], tmp_path, secrets={"main": (APP_KEY, wrong)}
        )
        session = open_session(settings, settings.accounts[0], state_dir=tmp_path)
        with pytest.raises(AuthenticationFailed, match="account main access token") as caught:
            await session.rest.connect()
        await session.rest.close()
    text = str(caught.value) + caplog.text
    assert wrong not in text and APP_KEY not in text


def test_missing_credentials_name_the_variable_to_set(tmp_path: Path) -> None:
    account = account_config(FakeKis(), name="growth")
    settings = KisSettings(accounts=(account,), token_dir=tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        open_session(settings, account, state_dir=tmp_path)
    message = str(caught.value)
    assert "JTS_KIS__SECRETS__GROWTH__APP_KEY" in message
    assert "JTS_KIS__SECRETS__GROWTH__APP_SECRET" in message


def test_secrets_file_supplies_what_the_environment_does_not(tmp_path: Path) -> None:
    secrets = tmp_path / "kis-secrets.toml"
    secrets.write_text(f'[main]\napp_key = "{APP_KEY}"\napp_secret = "{APP_SECRET}"\n')
    secrets.chmod(0o600)
    account = account_config(FakeKis())
    settings = KisSettings(accounts=(account,), secrets_file=secrets)
    credentials = load_credentials(settings, account)
    assert credentials.app_key.get_secret_value() == APP_KEY
    assert APP_KEY not in repr(credentials) and APP_SECRET not in str(credentials)
    broken = tmp_path / "broken.toml"
    broken.write_text(f'[main]\napp_key = "{APP_KEY}\n')
    with pytest.raises(ConfigurationError) as caught:
        load_credentials(KisSettings(accounts=(account,), secrets_file=broken), account)
    assert APP_KEY not in str(caught.value)


async def test_rate_limit_answer_is_backed_off_not_failed(tmp_path: Path) -> None:
    """A budget set too generously meets KIS's EGW00201 and still completes every call."""
    async with FakeKis(paper=True) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(70_000))
        account = account_config(fake, paper=True, requests_per_second=6)
        settings = kis_settings([account], tmp_path)
        session = open_session(settings, account, state_dir=tmp_path)
        session.guard.policy = type(session.guard.policy)(attempts=10, rate_limit_pause=0.5)
        market = KisMarketData(session.rest, [SAMSUNG])
        await market.connect()
        prices = await asyncio.gather(*(market.latest_price(SAMSUNG) for _ in range(8)))
        assert prices == [Decimal(70_000)] * 8
        assert fake.rate_limited > 0
        await market.disconnect()


async def test_refusals_stop_once_the_shared_rate_came_down(tmp_path: Path) -> None:
    """Configured for 30/s where KIS takes 10/s: a few EGW00201, then none; every call completes."""
    async with FakeKis(rest_rate_per_second=10) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(70_000))
        account = account_config(fake, requests_per_second=30, max_ws_registrations=0)
        settings = kis_settings([account], tmp_path)
        session = open_session(settings, account, state_dir=tmp_path)
        session.guard.policy = RetryPolicy(attempts=10, rate_limit_pause=0.2)
        market = KisMarketData(session.rest, [SAMSUNG])
        await market.connect()
        done_at: list[float] = []

        async def price() -> Decimal | None:
            answer = await market.latest_price(SAMSUNG)
            done_at.append(time.monotonic())
            return answer

        prices = await asyncio.gather(*(price() for _ in range(36)))
        assert prices == [Decimal(70_000)] * 36
        assert fake.rate_limited > 0
        last_refusal = max(fake.rate_limited_at)
        assert sum(1 for t in done_at if t > last_refusal) >= 12  # the rest ran unrefused
        assert fake.rate_limited < 20
        # The lowered rate is in the shared file: another process on the key starts slow.
        other = open_session(settings, account, state_dir=tmp_path)
        assert other.budget.current_limits()[0].calls <= 10
        await market.disconnect()


async def test_the_paper_budget_keeps_within_kis_limits(tmp_path: Path) -> None:
    async with FakeKis(paper=True) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(70_000))
        account = account_config(fake, paper=True)  # default paper budget: 2/s
        settings = kis_settings([account], tmp_path)
        session = open_session(settings, account, state_dir=tmp_path)
        market = KisMarketData(session.rest, [SAMSUNG])
        await market.connect()
        await asyncio.gather(*(market.latest_price(SAMSUNG) for _ in range(5)))
        assert fake.rate_limited == 0
        await market.disconnect()


async def test_orders_meeting_the_rate_limit_wait_and_go_through(tmp_path: Path) -> None:
    """EGW00201 on an order means KIS did not take it: retried after a pause, never failed."""
    async with FakeKis(paper=True) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO)
        fake.set_price("005930", Decimal(70_000))
        account = account_config(fake, paper=True, requests_per_second=8, max_ws_registrations=0)
        settings = kis_settings([account], tmp_path)
        session = open_session(settings, account, state_dir=tmp_path)
        session.guard.policy = type(session.guard.policy)(attempts=10, rate_limit_pause=0.5)
        execution = KisExecution(session.rest, state_dir=tmp_path, poll_interval=60)
        reports = Reports()
        execution.set_report_handler(reports)
        await execution.connect()
        orders = [
            Order(
                "KRX:005930",
                Side.BUY,
                OrderType.LIMIT,
                Decimal(1),
                Decimal(69_000),
                1,
                "kis",
                client_order_id=f"rl-{i}",
            )
            for i in range(6)
        ]
        await asyncio.gather(*(execution.submit_order(o) for o in orders))
        assert fake.rate_limited > 0
        assert len(fake.orders) == 6
        assert [r.status for r in reports.items] == [OrderStatus.ACCEPTED] * 6
        await execution.disconnect()
