"""The paper venue's wire format: pydantic models at the HTTP edge, domain objects inside.

Decimals travel as strings and times as integer UTC nanoseconds, so nothing is
rounded on the way; ``extra="forbid"`` makes a misspelt field a 422, not a default.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import OrderStatusReport


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderIn(_Wire):
    client_order_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=64)
    instrument_id: str = Field(min_length=3, max_length=50)
    side: Side
    order_type: OrderType
    quantity: Decimal = Field(gt=0)
    price: Decimal | None = Field(None, gt=0)
    time_in_force: TimeInForce = TimeInForce.DAY
    created_ts: int = Field(ge=0)
    quote_quantity: Decimal | None = Field(None, gt=0)

    @classmethod
    def of(cls, order: Order) -> OrderIn:
        return cls(
            client_order_id=order.client_order_id,
            order_id=order.order_id,
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            quantity=order.quantity,
            price=order.price,
            time_in_force=order.time_in_force,
            created_ts=order.created_ts,
            quote_quantity=order.quote_quantity,
        )

    def to_order(self) -> Order:
        return Order(
            instrument_id=self.instrument_id,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price,
            created_ts=self.created_ts,
            broker="paper",
            time_in_force=self.time_in_force,
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            quote_quantity=self.quote_quantity,
        )


class OrderChangeIn(_Wire):
    """A modify: a new limit price and/or a new total quantity (filled included)."""

    price: Decimal | None = Field(None, gt=0)
    quantity: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _changes_something(self) -> OrderChangeIn:
        if self.price is None and self.quantity is None:
            raise ValueError("a modify needs a new price or quantity")
        return self


class OrderOut(_Wire):
    client_order_id: str | None
    venue_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal | None
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    status: OrderStatus
    ts: int
    # Submit requests the venue received for this client order id (1 unless resent).
    submissions: int = 0

    @classmethod
    def of(cls, report: OrderStatusReport, submissions: int) -> OrderOut:
        return cls(
            client_order_id=report.client_order_id,
            venue_order_id=report.venue_order_id,
            instrument_id=report.instrument_id,
            side=report.side,
            quantity=report.quantity,
            price=report.price,
            filled_quantity=report.filled_quantity,
            avg_fill_price=report.avg_fill_price,
            status=report.status,
            ts=report.ts,
            submissions=submissions,
        )

    def to_report(self) -> OrderStatusReport:
        return OrderStatusReport(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            instrument_id=self.instrument_id,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            filled_quantity=self.filled_quantity,
            avg_fill_price=self.avg_fill_price,
            status=self.status,
            ts=self.ts,
        )


class FillOut(_Wire):
    fill_id: str
    order_id: str
    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    tax: Decimal
    ts: int
    liquidity: LiquiditySide

    @classmethod
    def of(cls, fill: Fill) -> FillOut:
        return cls(
            fill_id=fill.fill_id,
            order_id=fill.order_id,
            client_order_id=fill.client_order_id,
            instrument_id=fill.instrument_id,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            commission=fill.commission,
            tax=fill.tax,
            ts=fill.ts,
            liquidity=fill.liquidity,
        )

    def to_fill(self) -> Fill:
        return Fill(
            fill_id=self.fill_id,
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            instrument_id=self.instrument_id,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            commission=self.commission,
            tax=self.tax,
            ts=self.ts,
            liquidity=self.liquidity,
        )


class ReportOut(_Wire):
    seq: int
    client_order_id: str
    status: OrderStatus
    ts: int
    venue_order_id: str | None = None
    reason: str | None = None
    fill: FillOut | None = None
    # The order's new terms, on the report of an accepted modify.
    price: Decimal | None = None
    quantity: Decimal | None = None

    @classmethod
    def of(cls, seq: int, report: ExecutionReport) -> ReportOut:
        return cls(
            seq=seq,
            client_order_id=report.client_order_id,
            status=report.status,
            ts=report.ts,
            venue_order_id=report.venue_order_id,
            reason=report.reason,
            fill=None if report.fill is None else FillOut.of(report.fill),
            price=report.price,
            quantity=report.quantity,
        )

    def to_report(self) -> ExecutionReport:
        return ExecutionReport(
            client_order_id=self.client_order_id,
            status=self.status,
            ts=self.ts,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            fill=None if self.fill is None else self.fill.to_fill(),
            price=self.price,
            quantity=self.quantity,
        )


class ReportPage(_Wire):
    reports: list[ReportOut]
    head: int


class AccountOut(_Wire):
    account: str
    currency: str
    cash: Decimal
    reserved_cash: Decimal
    positions: dict[str, Decimal]

    @classmethod
    def of(cls, state: AccountState) -> AccountOut:
        return cls(
            account=state.account,
            currency=state.currency,
            cash=state.cash,
            reserved_cash=state.reserved_cash,
            positions=dict(state.positions),
        )

    def to_state(self) -> AccountState:
        return AccountState(
            account=self.account,
            currency=self.currency,
            cash=self.cash,
            reserved_cash=self.reserved_cash,
            positions=dict(self.positions),
        )


class Problem(_Wire):
    """The body of every 4xx: what was wrong, in words."""

    detail: str
