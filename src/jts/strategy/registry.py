"""Strategy classes by name, so configuration and the API can refer to them as strings."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from jts.domain.errors import StrategyError
from jts.strategy.base import Strategy
from jts.strategy.sma_cross import SmaCrossStrategy

STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Add ``cls`` under its ``name``; a second class with the same name is refused."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise StrategyError(f"{cls.__name__} has no registry name (set the class attribute 'name')")
    existing = STRATEGIES.get(name)
    if existing is not None and existing is not cls:
        raise StrategyError(f"strategy name {name!r} is taken by {existing.__qualname__}")
    STRATEGIES[name] = cls
    return cls


def create_strategy(
    name: str,
    strategy_id: str,
    instruments: Sequence[str] | None = None,
    params: Mapping[str, object] | None = None,
) -> Strategy:
    """Instantiate the strategy registered as ``name``; bad params raise ``StrategyError``."""
    cls = STRATEGIES.get(name)
    if cls is None:
        known = ", ".join(sorted(STRATEGIES)) or "none"
        raise StrategyError(f"unknown strategy {name!r} (known: {known})")
    return cls(strategy_id=strategy_id, instruments=instruments, params=params)


register_strategy(SmaCrossStrategy)
