"""The stored description of a strategy (the roadmap's ``strategies`` table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum


class StrategyStatus(StrEnum):
    DRAFT = "DRAFT"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    FAULTED = "FAULTED"


@dataclass(slots=True)
class StrategyRecord:
    name: str
    status: StrategyStatus
    created_at: datetime
    dsl_code: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
