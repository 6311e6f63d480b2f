"""Instrument sets for demos and benchmarks: five real KRX stocks, or N synthetic ones."""

from __future__ import annotations

from decimal import Decimal

from jts.domain.enums import Market
from jts.domain.instruments import Instrument
from jts.domain.instruments import krx_stock

# (code, name, board, a plausible recent price in KRW used as the simulation's start).
_DEMO_STOCKS: tuple[tuple[str, str, Market, int], ...] = (
    ("005930", "Samsung Electronics", Market.KOSPI, 70_000),
    ("000660", "SK hynix", Market.KOSPI, 180_000),
    ("035420", "NAVER", Market.KOSPI, 200_000),
    ("035720", "Kakao", Market.KOSPI, 45_000),
    ("005380", "Hyundai Motor", Market.KOSPI, 250_000),
)

SYNTHETIC_FIRST_CODE = 900_000


def demo_instruments() -> list[Instrument]:
    """Samsung Electronics, SK hynix, NAVER, Kakao and Hyundai Motor (all KOSPI)."""
    return [krx_stock(code, name, market) for code, name, market, _ in _DEMO_STOCKS]


def demo_start_prices() -> dict[str, Decimal]:
    """Start prices of the demo stocks, keyed by instrument id (``KRX:005930``)."""
    return {f"KRX:{code}": Decimal(price) for code, _, _, price in _DEMO_STOCKS}


def synthetic_krx_instruments(n: int, first_code: int = SYNTHETIC_FIRST_CODE) -> list[Instrument]:
    """``n`` made-up KRX stocks with six-digit codes from ``first_code``; every third is KOSDAQ."""
    if n < 0 or first_code + n > 1_000_000:
        raise ValueError(f"cannot make {n} six-digit codes from {first_code}")
    instruments = []
    for i in range(n):
        code = f"{first_code + i:06d}"
        market = Market.KOSDAQ if i % 3 == 2 else Market.KOSPI
        instruments.append(krx_stock(code, f"Synthetic {code}", market))
    return instruments
