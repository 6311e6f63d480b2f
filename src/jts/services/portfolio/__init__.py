"""The portfolio service: positions, cash and P&L."""

from jts.services.portfolio.service import PortfolioConfig
from jts.services.portfolio.service import PortfolioService

__all__ = ["PortfolioConfig", "PortfolioService"]
