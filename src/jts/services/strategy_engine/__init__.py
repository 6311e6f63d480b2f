"""The strategy engine service."""

from jts.services.strategy_engine.engine import StrategyEngine
from jts.services.strategy_engine.engine import StrategyEngineStats

__all__ = ["StrategyEngine", "StrategyEngineStats"]
