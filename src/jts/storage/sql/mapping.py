"""Rows <-> domain objects. ORM rows never leave ``jts.storage.sql``.

The domain carries ids as strings; the tables use UUID columns. Order and strategy
record ids are UUIDs already. A strategy id on an order is often a strategy's
name, so the ``orders.strategy_id`` UUID is derived from it (name-based, stable)
and the string itself is kept in ``strategy_ref`` to be given back unchanged.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from datetime import datetime

from jts.domain.backtests import BacktestRun
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.domain.strategies import StrategyStatus
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ns_to_dt
from jts.storage.run_params import params_from_json
from jts.storage.run_params import params_json
from jts.storage.sql.tables import BacktestRunRow
from jts.storage.sql.tables import FillRow
from jts.storage.sql.tables import OrderAuditRow
from jts.storage.sql.tables import OrderRow
from jts.storage.sql.tables import PositionRow
from jts.storage.sql.tables import StrategyRow
from jts.storage.values import check_time
from jts.storage.values import parse_uuid
from jts.storage.values import position_money

STRATEGY_NAMESPACE = uuid.UUID("5b0f6f0e-3c55-4a8e-9d0b-6a1d2f4e7c11")


def strategy_uuid(ref: str) -> uuid.UUID:
    """The UUID itself when ``ref`` is one, else a stable UUID derived from the text."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return uuid.uuid5(STRATEGY_NAMESPACE, ref)


def market_time(ns: int, what: str) -> datetime:
    """``ns`` as a datetime; 0 or less means a clock that was never set, which is refused."""
    check_time(ns, what)
    return ns_to_dt(ns)


# The columns a state change may touch (a modify changes the terms: quantity, price).
ORDER_STATE_COLUMNS = (
    "status",
    "quantity",
    "price",
    "filled_quantity",
    "avg_fill_price",
    "venue_order_id",
    "reason",
    "updated_ts",
    "updated_at",
)


def order_state_values(order: Order) -> dict[str, object]:
    """``ORDER_STATE_COLUMNS`` as ``order`` has them."""
    updated_at = market_time(order.updated_ts, f"order {order.client_order_id}")
    values = (
        order.status.value,
        order.quantity,
        order.price,
        order.filled_quantity,
        order.avg_fill_price,
        order.venue_order_id,
        order.reason,
        order.updated_ts,
        updated_at,
    )
    return dict(zip(ORDER_STATE_COLUMNS, values, strict=True))


def order_values(order: Order) -> dict[str, object]:
    """Every column of ``order``'s row, for a bulk INSERT (no ORM object built)."""
    ref = order.strategy_id
    values: dict[str, object] = {
        "id": parse_uuid(order.order_id, "order id"),
        "strategy_id": None if ref is None else strategy_uuid(ref),
        "strategy_ref": ref,
        "symbol": order.instrument_id,
        "side": order.side.value,
        "broker": order.broker,
        "created_at": market_time(order.created_ts, f"order {order.client_order_id}"),
        "client_order_id": order.client_order_id,
        "order_type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "signal_id": order.signal_id,
        "created_ts": order.created_ts,
        "quote_quantity": order.quote_quantity,
    }
    values.update(order_state_values(order))
    return values


def order_to_row(order: Order) -> OrderRow:
    return OrderRow(**order_values(order))


def row_to_order(row: OrderRow) -> Order:
    return Order(
        instrument_id=row.symbol,
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        quantity=row.quantity,
        price=row.price,
        created_ts=row.created_ts,
        broker=row.broker,
        strategy_id=row.strategy_ref,
        signal_id=row.signal_id,
        time_in_force=TimeInForce(row.time_in_force),
        order_id=str(row.id),
        client_order_id=row.client_order_id,
        status=OrderStatus(row.status),
        filled_quantity=row.filled_quantity,
        avg_fill_price=row.avg_fill_price,
        venue_order_id=row.venue_order_id,
        reason=row.reason,
        updated_ts=row.updated_ts,
        quote_quantity=row.quote_quantity,
    )


def audit_values(
    order_id: uuid.UUID,
    previous: OrderStatus | None,
    current: OrderStatus,
    reason: str | None,
    ts: int,
) -> dict[str, object]:
    """An audit row's columns, for a bulk INSERT (no ORM object built)."""
    return {
        "order_id": order_id,
        "from_status": None if previous is None else previous.value,
        "to_status": current.value,
        "reason": reason,
        "ts": ts,
        "recorded_at": datetime.now(UTC),
    }


def audit_row(
    order_id: uuid.UUID,
    previous: OrderStatus | None,
    current: OrderStatus,
    reason: str | None,
    ts: int,
) -> OrderAuditRow:
    return OrderAuditRow(**audit_values(order_id, previous, current, reason, ts))


def fill_to_row(fill: Fill) -> FillRow:
    return FillRow(
        fill_id=fill.fill_id,
        order_id=parse_uuid(fill.order_id, "fill's order id"),
        client_order_id=fill.client_order_id,
        symbol=fill.instrument_id,
        side=fill.side.value,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        tax=fill.tax,
        liquidity=fill.liquidity.value,
        ts=fill.ts,
        executed_at=market_time(fill.ts, f"fill {fill.fill_id}"),
    )


def row_to_fill(row: FillRow) -> Fill:
    return Fill(
        fill_id=row.fill_id,
        order_id=str(row.order_id),
        client_order_id=row.client_order_id,
        instrument_id=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        price=row.price,
        commission=row.commission,
        tax=row.tax,
        ts=row.ts,
        liquidity=LiquiditySide(row.liquidity),
    )


def position_values(position: Position) -> dict[str, object]:
    """The row of ``position``; its amounts of money rounded to the currency's unit."""
    money = position_money(position)
    return {
        "account": position.account,
        "symbol": position.instrument_id,
        "quantity": position.quantity,
        "avg_price": position.avg_price,
        **money,
        "bought_quantity": position.bought_quantity,
        "sold_quantity": position.sold_quantity,
        "last_price": position.last_price,
        "updated_ts": position.updated_ts,
        "updated_at": ns_to_dt(position.updated_ts),
    }


def row_to_position(row: PositionRow) -> Position:
    return Position(
        instrument_id=row.symbol,
        account=row.account,
        quantity=row.quantity,
        avg_price=row.avg_price,
        realised_pnl=row.realised_pnl,
        fees=row.fees,
        taxes=row.taxes,
        bought_quantity=row.bought_quantity,
        sold_quantity=row.sold_quantity,
        last_price=row.last_price,
        updated_ts=row.updated_ts,
    )


def strategy_values(record: StrategyRecord) -> dict[str, object]:
    return {
        "id": parse_uuid(record.id, "strategy id"),
        "name": record.name,
        "dsl_code": record.dsl_code,
        "status": record.status.value,
        "created_at": record.created_at,
    }


def row_to_strategy(row: StrategyRow) -> StrategyRecord:
    return StrategyRecord(
        name=row.name,
        status=StrategyStatus(row.status),
        created_at=row.created_at,
        dsl_code=row.dsl_code,
        id=str(row.id),
    )


def backtest_run_to_row(run: BacktestRun) -> BacktestRunRow:
    return BacktestRunRow(
        id=parse_uuid(run.run_id, "backtest run id"),
        created_ts=dt_to_ns(run.created_at),
        created_at=run.created_at,
        strategy=run.strategy,
        strategy_id=run.strategy_id,
        params=params_json(run.params, run.run_id),
        symbols=json.dumps(list(run.symbols)),
        start_ts=run.start_ts,
        end_ts=run.end_ts,
        account=run.account,
        slippage=run.slippage,
        source=run.source,
        starting_cash=run.starting_cash,
        final_equity=run.final_equity,
        total_return=run.total_return,
        max_drawdown=run.max_drawdown,
        sharpe=run.sharpe,
        trades=run.trades,
        fills=run.fills,
        commission=run.commission,
        tax=run.tax,
        fingerprint=run.fingerprint,
        output_dir=run.output_dir,
    )


def row_to_backtest_run(row: BacktestRunRow) -> BacktestRun:
    return BacktestRun(
        run_id=str(row.id),
        created_at=row.created_at,
        strategy=row.strategy,
        strategy_id=row.strategy_id,
        params=params_from_json(row.params),
        symbols=tuple(json.loads(row.symbols)),
        start_ts=row.start_ts,
        end_ts=row.end_ts,
        account=row.account,
        slippage=row.slippage,
        source=row.source,
        starting_cash=row.starting_cash,
        final_equity=row.final_equity,
        total_return=row.total_return,
        max_drawdown=row.max_drawdown,
        sharpe=row.sharpe,
        trades=row.trades,
        fills=row.fills,
        commission=row.commission,
        tax=row.tax,
        fingerprint=row.fingerprint,
        output_dir=row.output_dir,
    )
