"""Seven minutes of two KRX stocks for backtest tests, and what sma_cross(1, 2) must do.

With fast=1 and slow=2 the fast average is above the slow one exactly when the close
rose, so a BUY comes on the first rise after a fall and a SELL on the first fall after
a rise. Orders are the execution defaults: LIMIT one tick through the signal's close
(buy 10,000,000 KRW worth; sell all held). The trades, derived by hand:

- 005930: rise at 09:02 (close 70,100) -> BUY limit 70,200 x 142 (10M / 70,200), fills on
  the 09:03 bar (low 70,000 <= limit) at its open 70,100, never on the 09:02 bar itself
  (whose open, 69,900, would have been cheaper). Fall at 09:04 (70,000) -> SELL limit
  69,900 x 142 fills on the 09:05 bar (high 70,000 >= limit) at max(69,900, open 69,800).
- 000660: rise at 09:03 (119,500) -> BUY limit 119,600 x 83 fills on the 09:04 bar at
  min(119,600, open 119,700) = 119,600, and is held to the end.

Commission 0.015% and the 2026 KOSPI sell tax of 0.20%, each truncated to the won.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

D = Decimal

CSV = """\
timestamp,symbol,open,high,low,close,volume
2026-11-03T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1000000
2026-11-03T09:00:00+09:00,KRX:000660,120000,120100,119900,120000,1000000
2026-11-03T09:01:00+09:00,KRX:005930,70000,70000,69800,69900,1000000
2026-11-03T09:01:00+09:00,KRX:000660,120000,120000,119400,119500,1000000
2026-11-03T09:02:00+09:00,KRX:005930,69900,70100,69800,70100,1000000
2026-11-03T09:02:00+09:00,KRX:000660,119500,119500,118900,119000,1000000
2026-11-03T09:03:00+09:00,KRX:005930,70100,70300,70000,70200,1000000
2026-11-03T09:03:00+09:00,KRX:000660,119000,119600,119000,119500,1000000
2026-11-03T09:04:00+09:00,KRX:005930,70200,70200,70000,70000,1000000
2026-11-03T09:04:00+09:00,KRX:000660,119700,119800,119400,119800,1000000
2026-11-03T09:05:00+09:00,KRX:005930,69800,70000,69700,69900,1000000
2026-11-03T09:05:00+09:00,KRX:000660,119800,120000,119700,120000,1000000
2026-11-03T09:06:00+09:00,KRX:005930,69900,69900,69800,69900,1000000
2026-11-03T09:06:00+09:00,KRX:000660,120000,120100,120000,120100,1000000
"""

PARAMS = {"fast": 1, "slow": 2}
CASH = D(50_000_000)

# (instrument, side, quantity, price, commission, tax, KST minute the fill is known)
FILLS = [
    ("KRX:005930", "BUY", D(142), D(70_100), D(1_493), D(0), "09:04"),
    ("KRX:000660", "BUY", D(83), D(119_600), D(1_489), D(0), "09:05"),
    ("KRX:005930", "SELL", D(142), D(69_900), D(1_488), D(19_851), "09:06"),
]
# Equity after each minute: cash plus holdings at the minute's closes.
EQUITY = [
    ("09:01", D(50_000_000)),  # before the first minute is matched
    ("09:01", D(50_000_000)),
    ("09:02", D(50_000_000)),
    ("09:03", D(50_000_000)),
    ("09:04", D(40_044_307) + 142 * D(70_200)),
    ("09:05", D(30_116_018) + 142 * D(70_000) + 83 * D(119_800)),
    ("09:06", D(40_020_479) + 83 * D(120_000)),
    ("09:07", D(40_020_479) + 83 * D(120_100)),
]
FINAL_EQUITY = D(49_988_779)


def write_csv(folder: Path, name: str = "bars.csv") -> Path:
    path = folder / name
    path.write_text(CSV, encoding="utf-8")
    return path
