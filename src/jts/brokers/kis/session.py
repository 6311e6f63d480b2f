"""Everything one KIS account needs, built from settings: the adapter's composition."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from jts.brokers.common.breaker import CircuitBreaker
from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.ratelimit import Backoff
from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.common.ratelimit import RateLimit
from jts.brokers.common.ratelimit import SqliteWindows
from jts.brokers.common.ratelimit import WindowStore
from jts.brokers.kis.config import KisAccountConfig
from jts.brokers.kis.config import KisSettings
from jts.brokers.kis.credentials import load_credentials
from jts.brokers.kis.environments import endpoints_for
from jts.brokers.kis.http import KisRest
from jts.brokers.kis.token import TokenCache
from jts.brokers.kis.websocket import KisRealtime

BUDGETS_FILE = "broker-budgets.sqlite"
# KIS counts calls by arrival; ours are counted when reserved. A window a tenth of a
# second longer than KIS's absorbs the difference (scheduling, network jitter).
WINDOW_SECONDS = 1.1


@dataclass
class KisSession:
    account: KisAccountConfig
    rest: KisRest
    realtime: KisRealtime | None
    guard: VenueGuard

    @property
    def budget(self) -> RateBudget:
        return self.guard.budget

    @property
    def breaker(self) -> CircuitBreaker:
        return self.guard.breaker


def budget_key(account: KisAccountConfig, app_key: str) -> str:
    """KIS counts per app key; the key itself never leaves this function."""
    digest = hashlib.sha256(app_key.encode()).hexdigest()[:12]
    return f"kis:{account.environment}:{digest}"


def open_session(
    settings: KisSettings,
    account: KisAccountConfig,
    *,
    state_dir: Path,
    windows: WindowStore | None = None,
    breaker: CircuitBreaker | None = None,
) -> KisSession:
    """Credentials are checked here, so a missing one stops the process at start."""
    credentials = load_credentials(settings, account)
    endpoints = endpoints_for(account.environment)
    app_key = credentials.app_key.get_secret_value()
    rate = account.requests_per_second or endpoints.requests_per_second
    budget = RateBudget(
        budget_key(account, app_key),
        [RateLimit(rate, WINDOW_SECONDS)],
        windows or SqliteWindows(state_dir / BUDGETS_FILE),
        # EGW00201 means the key's real limit is below ours: slow down, for every process
        # (the refusals of one window's burst are one cut).
        backoff=Backoff(cut_interval=WINDOW_SECONDS),
    )
    name = f"kis:{account.name}"
    breaker = breaker or CircuitBreaker(
        name, failure_threshold=settings.breaker_failures, reset_timeout=settings.breaker_reset
    )
    guard = VenueGuard(name, budget, breaker)
    tokens = TokenCache(
        settings.token_dir or state_dir / "kis",
        app_key,
        account.environment,
        min_issue_interval=settings.token_issue_interval,
    )
    rest = KisRest(account, credentials, endpoints, tokens, guard, timeout=settings.request_timeout)
    realtime = None
    if account.max_ws_registrations > 0:
        realtime = KisRealtime(
            account.ws_url or endpoints.ws_url,
            rest.approval_key,
            name=f"kis:{account.name}",
            max_registrations=account.max_ws_registrations,
        )
    return KisSession(account, rest, realtime, guard)
