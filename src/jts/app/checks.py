"""The bar checks of this deployment: the known venue calendars and the configured jump."""

from __future__ import annotations

from typing import Any

from jts.app.settings import Settings
from jts.brokers.common.calendars import known_calendar
from jts.core.bar_checks import BarChecks
from jts.services.kernel import CollectorConfig


def bar_checks(settings: Settings, *, not_after_ns: int | None = None) -> BarChecks:
    """Fresh checks (each remembers its own previous closes); ``not_after_ns``: now, at imports."""
    return BarChecks(known_calendar, max_jump=settings.data.max_jump, not_after_ns=not_after_ns)


def collector_config(settings: Settings, **overrides: Any) -> CollectorConfig:
    """The collector's settings with this deployment's bar checks."""
    return CollectorConfig(calendars=known_calendar, max_jump=settings.data.max_jump, **overrides)
