"""Settings to service configuration: the one mapping every composition root uses.

The embedded platform, each ``jts serve`` process and the backtester read the same
settings; mapping them here once keeps a distributed run sizing, snapshotting and
retrying exactly as the embedded one does.
"""

from __future__ import annotations

import uuid

from jts.app.checks import collector_config
from jts.app.settings import Settings
from jts.brokers.paper.config import PaperConfig
from jts.core.storage_retry import StorageRetry
from jts.services.kernel import KernelConfig
from jts.services.kernel import PortfolioConfig
from jts.services.kernel import SizingConfig

# A published portfolio snapshot every this many market minutes.
SNAPSHOT_EVERY_MINUTES = 5


def kernel_config(settings: Settings, *, universe_size: int) -> KernelConfig:
    execution = settings.execution
    paper = settings.paper
    return KernelConfig(
        collector=collector_config(settings),
        sizing=SizingConfig(
            notional_per_order=execution.notional_per_order,
            order_type=execution.order_type,
            limit_offset_ticks=execution.limit_offset_ticks,
        ),
        portfolio=PortfolioConfig(
            account=paper.account,
            currency=paper.currency,
            starting_cash=paper.starting_cash,
            snapshot_every_bars=SNAPSHOT_EVERY_MINUTES * max(1, universe_size),
        ),
        storage_retry=StorageRetry(give_up_after=execution.storage_give_up_after),
        watermarks=minute_marks(settings),
    )


def minute_marks(settings: Settings) -> bool:
    """Whether minutes complete by watermarks: over Kafka, when asked or in lockstep."""
    kafka = settings.bus.kafka
    return settings.bus.kind == "kafka" and (kafka.watermarks or kafka.lockstep)


def paper_config(settings: Settings, *, history_limit: int | None = None) -> PaperConfig:
    """The paper venue of these settings, with ids no earlier run on the same database used."""
    paper = settings.paper
    extra = {} if history_limit is None else {"history_limit": history_limit}
    return PaperConfig(
        account=paper.account,
        starting_cash=paper.starting_cash,
        currency=paper.currency,
        participation_rate=paper.participation_rate,
        slippage=paper.slippage,
        commission_rate=paper.commission_rate,
        allow_short=paper.allow_short,
        id_prefix=f"PAPER{uuid.uuid4().hex[:8].upper()}",
        **extra,
    )
