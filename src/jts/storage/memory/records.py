"""Positions and strategy records in memory, upserted by their natural keys as in SQL."""

from __future__ import annotations

from jts.domain.errors import StorageError
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.storage.memory.tables import Tables
from jts.storage.memory.tables import copy_position
from jts.storage.memory.tables import copy_strategy
from jts.storage.memory.tables import stored_position
from jts.storage.memory.tables import utc_time
from jts.storage.values import parse_uuid
from jts.storage.values import position_money


class MemoryPositionRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def upsert(self, position: Position) -> None:
        money = position_money(position)
        try:
            row = stored_position(position, money)
        except (TypeError, ValueError) as exc:
            where = f"{position.account}/{position.instrument_id}"
            raise StorageError(f"storing position {where} failed: {exc}") from exc
        self._tables.positions.setdefault(row.account, {})[row.instrument_id] = row

    async def list(self, account: str = "default") -> list[Position]:
        held = self._tables.positions.get(account)
        if not held:
            return []
        return [copy_position(held[symbol]) for symbol in sorted(held)]


class MemoryStrategyRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def upsert(self, record: StrategyRecord) -> StrategyRecord:
        """Insert or update by name; the first id and creation time stay."""
        tables = self._tables
        action = f"storing strategy {record.name}"
        record_id = str(parse_uuid(record.id, "strategy id"))
        created_at = utc_time(record.created_at, action)
        existing = tables.strategies.get(record.name)
        if existing is None:
            if record_id in tables.strategy_names:
                raise StorageError(f"{action} failed: strategy id {record_id} is stored already")
            existing = StrategyRecord(
                name=record.name, status=record.status, created_at=created_at, id=record_id
            )
            tables.strategies[record.name] = existing
            tables.strategy_names[record_id] = record.name
        existing.status = record.status
        existing.dsl_code = record.dsl_code
        return copy_strategy(existing)

    async def list(self) -> list[StrategyRecord]:
        strategies = self._tables.strategies
        return [copy_strategy(strategies[name]) for name in sorted(strategies)]
