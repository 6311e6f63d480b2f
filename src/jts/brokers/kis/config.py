"""KIS settings: accounts, their universe share and where their secrets come from.

Secrets (app key and secret) are never part of the config file: they come from
environment variables ``JTS_KIS__SECRETS__<ACCOUNT>__APP_KEY`` / ``__APP_SECRET``
or from a secrets file (TOML, one table per account), see ``credentials.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import SecretStr
from pydantic import field_validator
from pydantic import model_validator

from jts.brokers.kis.environments import KisEnvironment
from jts.domain.errors import ConfigurationError

_ACCOUNT = re.compile(r"^\d{8}-\d{2}$")


class KisSecret(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    app_key: SecretStr | None = None
    app_secret: SecretStr | None = None


class KisAccountConfig(BaseModel):
    """One KIS account (one app key) and the part of the universe it covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    environment: KisEnvironment = KisEnvironment.PAPER
    account: str = Field(description="CANO-ACNT_PRDT_CD, e.g. 12345678-01")
    hts_id: str | None = Field(None, description="HTS user id; needed for fill notices")
    focus: str = Field("", description="What this account's share of the universe is for")
    symbols: tuple[str, ...] = Field((), description="Instruments pinned to this account")
    symbols_file: Path | None = Field(None, description="More pinned instruments, one per line")
    max_symbols: int = Field(600, ge=1, le=1_800)
    requests_per_second: int | None = Field(None, ge=1, le=100)
    max_ws_registrations: int = Field(40, ge=0, le=41)
    rest_url: str | None = None
    ws_url: str | None = None

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if not _ACCOUNT.match(value):
            raise ValueError("must look like 12345678-01 (8-digit CANO, 2-digit product code)")
        return value

    @property
    def cano(self) -> str:
        return self.account.split("-")[0]

    @property
    def product_code(self) -> str:
        return self.account.split("-")[1]


class KisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: tuple[KisAccountConfig, ...] = ()
    secrets: dict[str, KisSecret] = Field(default_factory=dict)
    secrets_file: Path | None = None
    universe: tuple[str, ...] = Field((), description="Instruments the pool covers")
    universe_file: Path | None = Field(None, description="More instruments, one per line")
    trading_account: str | None = Field(None, description="Account that places orders")
    token_dir: Path | None = Field(None, description="Token cache; default <data_dir>/kis")
    request_timeout: float = Field(10.0, gt=0)
    token_issue_interval: float = Field(
        61.0, ge=0, description="KIS issues one token per minute per app key"
    )
    breaker_failures: int = Field(5, ge=1, description="Failures in a row that open the breaker")
    breaker_reset: float = Field(
        30.0, gt=0, description="Seconds before a failed account is probed"
    )

    @model_validator(mode="after")
    def _unique(self) -> KisSettings:
        names = [a.name for a in self.accounts]
        if len(names) != len(set(names)):
            raise ValueError(f"account names must be unique, got {names}")
        pinned: dict[str, str] = {}
        for account in self.accounts:
            for symbol in account.symbols:
                if symbol in pinned:
                    raise ValueError(
                        f"{symbol} is pinned to both {pinned[symbol]} and {account.name}"
                    )
                pinned[symbol] = account.name
        return self

    def pinned(self, account: KisAccountConfig) -> tuple[str, ...]:
        return account.symbols + read_symbols(account.symbols_file)

    def full_universe(self) -> tuple[str, ...]:
        """The universe plus every pinned symbol, each once, in configuration order."""
        symbols = list(self.universe) + list(read_symbols(self.universe_file))
        for account in self.accounts:
            symbols.extend(self.pinned(account))
        return tuple(dict.fromkeys(symbols))

    def account(self, name: str) -> KisAccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise KeyError(f"no KIS account {name!r} ({known})")


def read_symbols(path: Path | None) -> tuple[str, ...]:
    """Instrument ids from a file, one per line; ``#`` starts a comment; bare codes get KRX."""
    if path is None:
        return ()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"symbols file {path}: {exc.strerror}") from None
    symbols = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        symbol = line if ":" in line else f"KRX:{line}"
        if not re.match(r"^KRX:[0-9A-Z]{6,7}$", symbol):
            raise ConfigurationError(
                f"symbols file {path} line {number}: {line!r} is not a KRX code"
            )
        symbols.append(symbol)
    return tuple(symbols)
