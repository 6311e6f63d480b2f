"""Small runtime kit shared by every layer: clocks, lifecycle, topic names."""

from jts.core.clocks import LiveClock
from jts.core.clocks import SimClock
from jts.core.component import Component
from jts.core.component import ComponentState

__all__ = ["Component", "ComponentState", "LiveClock", "SimClock"]
