"""Market data collection: feeds in, checked bars out to the store and the bus."""

from jts.services.market_data.collector import CollectorConfig
from jts.services.market_data.collector import CollectorStats
from jts.services.market_data.collector import MarketDataCollector
from jts.services.market_data.quarantine import Quarantine

__all__ = ["CollectorConfig", "CollectorStats", "MarketDataCollector", "Quarantine"]
