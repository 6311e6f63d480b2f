"""The broker contract suite runs once per venue adapter, each against its fake venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from fakes.creon_venue import creon_venue
from fakes.kis_venue import kis_paper_venue
from fakes.kis_venue import kis_venue
from fakes.paper_venue import paper_venue
from fakes.venue_harness import VenueHarness

VENUES: dict[str, Any] = {
    "paper": paper_venue,
    "kis": kis_venue,
    "kis-paper": kis_paper_venue,
    "creon": creon_venue,
}


@pytest.fixture(params=sorted(VENUES))
async def venue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VenueHarness]:
    factory = VENUES[request.param]
    context: AbstractAsyncContextManager[VenueHarness] = factory(tmp_path)
    async with context as harness:
        yield harness
