"""Stored backtest runs in memory, by the rules of the ``backtest_runs`` table."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace

from jts.domain.backtests import BacktestRun
from jts.domain.errors import StorageError
from jts.domain.timestamps import dt_to_ns
from jts.storage.memory.tables import utc_time
from jts.storage.run_params import params_from_json
from jts.storage.run_params import params_json
from jts.storage.values import parse_uuid


class MemoryBacktestRunRepository:
    def __init__(self) -> None:
        self._runs: dict[uuid.UUID, BacktestRun] = {}

    async def add(self, run: BacktestRun) -> None:
        action = f"storing backtest run {run.run_id}"
        key = parse_uuid(run.run_id, "backtest run id")
        if key in self._runs:
            raise StorageError(f"{action} failed: run id {run.run_id} is stored already")
        # Stored as the table keeps it: a canonical id, UTC, params as JSON values.
        self._runs[key] = replace(
            run,
            run_id=str(key),
            created_at=utc_time(run.created_at, action),
            params=params_from_json(params_json(run.params, run.run_id)),
            symbols=tuple(run.symbols),
        )

    async def get(self, run_id: str) -> BacktestRun | None:
        try:
            key = uuid.UUID(run_id)
        except ValueError:
            return None
        run = self._runs.get(key)
        return None if run is None else replace(run, params=dict(run.params))

    async def list(self, *, limit: int | None = None) -> builtins.list[BacktestRun]:
        ordered = sorted(
            self._runs.items(), key=lambda item: (dt_to_ns(item[1].created_at), item[0].int)
        )
        newest = [replace(run, params=dict(run.params)) for _, run in reversed(ordered)]
        return newest if limit is None else newest[:limit]
