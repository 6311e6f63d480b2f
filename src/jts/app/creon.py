"""The Creon adapter built from settings."""

from __future__ import annotations

from pathlib import Path

from jts.app.settings import Settings
from jts.brokers.creon.adapter import CreonBroker


def creon_broker(settings: Settings, *, state_dir: Path) -> CreonBroker:
    """The secret is resolved here, so a missing one stops the process at start."""
    creon = settings.creon
    secret = creon.shared_secret()
    account = creon.account or "default"
    return CreonBroker(
        creon.bridge_url,
        secret,
        account=account,
        journal_path=state_dir / f"creon-{account}-intents.jsonl",
        timeout=creon.request_timeout,
        watch=settings.feed.symbols,
    )
