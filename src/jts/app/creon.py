"""The Creon adapter built from settings."""

from __future__ import annotations

from pathlib import Path

from jts.app.settings import Settings
from jts.brokers.creon.adapter import CreonBroker


def creon_broker(settings: Settings, *, state_dir: Path) -> CreonBroker:
    """The secret is resolved here, so a missing one stops the process at start."""
    creon = settings.creon
    secret = creon.shared_secret()
    # Without a configured account, the bridge's (the one signed on in Creon) is used.
    return CreonBroker(
        creon.bridge_url,
        secret,
        account=creon.account,
        journal_path=state_dir / f"creon-{creon.account or 'default'}-intents.jsonl",
        timeout=creon.request_timeout,
        watch=settings.feed.symbols,
    )
