"""One Creon order number as the look-ups show it: a CpTd5339/5341 row in the making.

Its own module because both the market (which keeps them) and the COM objects
(which print them) read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeOrder:
    """What Creon shows for one order number (a CpTd5339/5341 row)."""

    order_no: int
    code: str
    side: str  # "1" sell, "2" buy
    quantity: int
    price: int  # 0 for market
    hoga: str
    condition: str
    filled: int = 0
    fill_value: int = 0
    cancelled: int = 0
    moved: int = 0  # modified away to a new order number (CpTd0313)
    orig_order_no: int = 0  # the order this one cancels, or replaced by a modify
    is_cancel: bool = False  # a cancel order's own row in the 5341 list

    @property
    def open_quantity(self) -> int:
        if self.is_cancel:
            return 0
        return self.quantity - self.filled - self.cancelled - self.moved

    @property
    def is_modify(self) -> bool:
        return bool(self.orig_order_no) and not self.is_cancel

    @property
    def avg_price(self) -> int:
        return self.fill_value // self.filled if self.filled else 0
