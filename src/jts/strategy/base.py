"""The Python strategy API: subclass ``Strategy``, implement ``on_bar``, call ``buy``/``sell``.

A strategy only records signals; the engine collects them after each callback
(``run_guarded``) and turns them into events. Keeping strategies free of I/O and of the
bus makes the same class run unchanged in backtests, paper and live trading.
"""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from collections.abc import Mapping
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import ValidationError

from jts.domain.enums import Side
from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.domain.signals import Signal
from jts.domain.signals import signal_id_for


class StrategyParams(BaseModel):
    """Base of every strategy's ``Params``: immutable, and unknown names are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy(ABC):
    """Base class of user strategies.

    Subclasses set ``name`` (the registry key) and, when they take parameters, a
    ``Params`` model; ``self.params`` is then a validated instance of it.
    """

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def __init__(
        self,
        *,
        strategy_id: str,
        instruments: Sequence[str] | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        if not strategy_id:
            raise StrategyError(f"{type(self).__name__}: strategy_id must not be empty")
        if isinstance(instruments, str):
            raise StrategyError(f"{strategy_id}: instruments must be a list of ids, not a string")
        self.strategy_id = strategy_id
        self.instruments: frozenset[str] | None = (
            None if instruments is None else frozenset(instruments)
        )
        self.params: StrategyParams = self._validate_params(params or {})
        self._pending: list[Signal] = []

    def _validate_params(self, raw: Mapping[str, object]) -> StrategyParams:
        try:
            return self.Params.model_validate(dict(raw))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in err['loc']) or 'params'}: {err['msg']}"
                for err in exc.errors()
            )
            raise StrategyError(
                f"{self.strategy_id} ({self._label()}): bad params: {problems}"
            ) from exc

    @classmethod
    def _label(cls) -> str:
        return getattr(cls, "name", cls.__name__)

    def wants(self, instrument_id: str) -> bool:
        """Whether bars of ``instrument_id`` should reach this strategy."""
        return self.instruments is None or instrument_id in self.instruments

    def on_start(self) -> None:
        """Called once before the first bar; override to prepare state."""
        return None

    @abstractmethod
    def on_bar(self, bar: Bar) -> None:
        """React to one completed bar; call ``buy``/``sell`` to emit signals."""

    def buy(self, bar: Bar, reason: str = "", strength: Decimal = Decimal(1)) -> None:
        self._record(Side.BUY, bar, reason, strength)

    def sell(self, bar: Bar, reason: str = "", strength: Decimal = Decimal(1)) -> None:
        self._record(Side.SELL, bar, reason, strength)

    def _record(self, side: Side, bar: Bar, reason: str, strength: Decimal) -> None:
        # Priced at the close and stamped at the close time: that is when the bar is known.
        self._pending.append(
            Signal(
                strategy_id=self.strategy_id,
                instrument_id=bar.instrument_id,
                side=side,
                ts=bar.close_ts,
                price=bar.close,
                strength=strength,
                reason=reason,
                signal_id=signal_id_for(self.strategy_id, bar.instrument_id, side, bar.close_ts),
            )
        )

    def _jts_take_signals(self) -> list[Signal]:
        """Framework-internal: hand over the signals recorded since the last call."""
        taken, self._pending = self._pending, []
        return taken

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.strategy_id!r} params={self.params!r}>"
