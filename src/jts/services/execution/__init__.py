"""The order execution service: signals to orders, orders to venues, reports to events."""

from jts.services.execution.service import ExecutionStats
from jts.services.execution.service import OrderExecutionService
from jts.services.execution.sizing import SizingConfig
from jts.services.execution.sizing import client_order_id_for

__all__ = ["ExecutionStats", "OrderExecutionService", "SizingConfig", "client_order_id_for"]
