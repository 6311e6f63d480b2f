"""Settings: ``JTS_*`` environment variables over an optional TOML file over defaults.

Every default is the embedded way to run: SQLite and the in-process ClickHouse
engine under ``data_dir``, the in-process bus, the paper venue and the seeded
simulated feed. Nested fields use ``__``: ``JTS_PAPER__STARTING_CASH=50000000``.
The TOML file is ``jts.toml`` in the working directory, or ``JTS_CONFIG_FILE``.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import AliasChoices
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import SecretStr
from pydantic import ValidationError
from pydantic import ValidationInfo
from pydantic import field_validator
from pydantic import model_validator
from pydantic_settings import BaseSettings
from pydantic_settings import PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict
from pydantic_settings import SettingsError
from pydantic_settings import TomlConfigSettingsSource

from jts.app.setting_sources import TomlFile
from jts.app.setting_sources import read_toml
from jts.app.setting_sources import source_of
from jts.brokers.creon.config import CreonConfig
from jts.brokers.kis.config import KisSettings
from jts.domain.enums import OrderType
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import InstrumentId
from jts.domain.money import CURRENCY_PLACES
from jts.domain.money import MAX_AMOUNT
from jts.domain.money import currency_places
from jts.domain.secrets import HOW_TO_MAKE_ONE
from jts.domain.secrets import weak_secret_reason
from jts.sim.fees import krx_tax_schedule_start
from jts.sim.slippage import parse_slippage

ENV_PREFIX = "JTS_"
DEFAULT_CONFIG_FILE = "jts.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Section):
    """Where the distributed platform's Kafka is, and how its topics are laid out."""

    bootstrap_servers: str = "127.0.0.1:59092"
    # Prepended to every topic and group: several deployments (or test runs) on one cluster.
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]*$")
    partitions: int = Field(6, ge=1, le=1_000)
    replication_factor: int = Field(1, ge=1, le=10)
    client_id: str = "jts"
    # Minute watermarks (``jts.core.watermarks``): market data closes each minute on every
    # partition and order execution sizes a minute's signals only once every strategy
    # engine lane has closed it, in one defined order. ``lockstep`` also has the feed wait
    # for order execution and the portfolio to settle a minute before the next: a replay
    # then trades the same as in process. Needs a feed whose batches are whole minutes
    # (the simulated or a recorded feed); a live stream leaves them off.
    watermarks: bool = False
    lockstep: bool = False


class BusSettings(_Section):
    # ``inprocess`` for the embedded platform (``jts demo``/``jts run``); ``jts serve`` needs kafka.
    kind: Literal["inprocess", "kafka"] = "inprocess"
    kafka: KafkaSettings = KafkaSettings()
    queue_size: int = Field(1024, ge=1, description="Events buffered per consumer lane.")
    lanes: int = Field(4, ge=1, le=64, description="Parallel lanes per consumer group.")
    # Event ids remembered per consumer group for de-duplication: a bound on memory.
    dedupe_window: int = Field(16_384, ge=1)


class PaperSettings(_Section):
    account: str = "paper"
    # Before starting_cash, whose validator needs it.
    currency: str = "KRW"
    # At most MAX_AMOUNT (1e15), in whole units of ``currency`` (whole won for KRW).
    starting_cash: Decimal = Field(Decimal(100_000_000), gt=0, le=MAX_AMOUNT, allow_inf_nan=False)
    commission_rate: Decimal = Field(Decimal("0.00015"), ge=0, lt=Decimal("0.01"))
    participation_rate: Decimal = Field(Decimal("0.10"), gt=0, le=1)
    # How much worse than the book's price paper fills are (jts.sim.slippage):
    # none, ticks:N, bps:X or volume:F (F replaces participation_rate).
    slippage: str = "none"
    allow_short: bool = False

    @field_validator("slippage")
    @classmethod
    def _slippage_form(cls, value: str) -> str:
        try:
            return parse_slippage(value).text
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_PLACES:
            raise ValueError(f"unknown currency; known: {', '.join(sorted(CURRENCY_PLACES))}")
        return value

    @field_validator("starting_cash")
    @classmethod
    def _cash_in_currency_units(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        currency = info.data.get("currency")
        if currency is None:
            return value  # the currency itself was refused, and is reported
        places = currency_places(currency)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"has more decimals than {currency} has ({places})")
        return value


class ServeSettings(_Section):
    """``jts serve``: where each process answers ``/health``, and how to reach the paper venue."""

    host: str = "127.0.0.1"
    market_data_port: int = Field(8701, ge=0, le=65_535)
    strategy_engine_port: int = Field(8702, ge=0, le=65_535)
    order_execution_port: int = Field(8703, ge=0, le=65_535)
    portfolio_port: int = Field(8704, ge=0, le=65_535)
    paper_venue_port: int = Field(8705, ge=0, le=65_535)
    # The paper venue's API as order execution sees it; default: this host, paper_venue_port.
    paper_venue_url: str | None = None
    # The bearer token of the paper venue's API and of every process's /status. No
    # default: unset, the first process writes a random one to <data_dir>/serve-token
    # (see jts.app.tokens). Across hosts it must be set (the old name is accepted too).
    token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("token", "paper_venue_token")
    )
    # How often order execution reconciles open orders with the venue while running.
    reconcile_interval: float = Field(30.0, gt=0)

    @field_validator("token")
    @classmethod
    def _strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        reason = weak_secret_reason(value.get_secret_value())
        if reason is not None:
            raise ValueError(f"too weak: {reason}; make one with {HOW_TO_MAKE_ONE}")
        return value

    def port_of(self, service: str) -> int:
        port: int = getattr(self, f"{service.replace('-', '_')}_port")
        return port

    def venue_url(self) -> str:
        return self.paper_venue_url or f"http://{self.host}:{self.paper_venue_port}"


class FeedSettings(_Section):
    """Market data: simulated, a replayed file, the store, or a live broker (serve market-data)."""

    source: Literal["simulated", "file", "store", "kis", "creon"] = "simulated"
    replay_file: Path | None = None
    symbols: tuple[str, ...] = ()
    # Simulate this many made-up KRX stocks (codes from 900000) instead of the five demo ones.
    synthetic_symbols: int = Field(0, ge=0, le=10_000)
    seed: int = 7
    start_date: date = date(2026, 11, 2)
    sessions: int = Field(3, ge=1, le=2_000)
    # Simulated minutes per wall-clock second in ``jts run``; 0 runs as fast as possible.
    speed: float = Field(60.0, ge=0)
    # Live broker feeds: sessions of history mended at start, and how often gaps are re-checked.
    backfill_sessions: int = Field(1, ge=0, le=400)
    gap_check_interval: float = Field(300.0, gt=0)

    @field_validator("start_date")
    @classmethod
    def _fees_known(cls, value: date) -> date:
        first = krx_tax_schedule_start()
        if value < first:
            raise ValueError(
                f"the KRX fee and tax schedule starts {first.isoformat()}; a run from "
                f"{value.isoformat()} would fail midway (add earlier rates in jts.sim.fees)"
            )
        return value

    @model_validator(mode="after")
    def _replay_file(self) -> FeedSettings:
        if self.source == "file" and self.replay_file is None:
            raise ValueError("feed.source 'file' needs feed.replay_file")
        if self.replay_file is not None and not self.replay_file.is_file():
            raise ValueError(f"feed.replay_file {self.replay_file} is not a file")
        return self

    @field_validator("symbols")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in value:
            InstrumentId.parse(symbol)
        return value


class DataSettings(_Section):
    """How bars are checked before they are stored (imports, replays, live feeds)."""

    # A bar moving more than this fraction from the previous close is kept but flagged
    # (KRX's daily limit is 0.30; splits and resumed trading move further legitimately).
    max_jump: Decimal = Field(Decimal("0.30"), gt=0, le=100)


class StrategySettings(_Section):
    name: str = "sma_cross"
    id: str = "sma-cross-5-20"
    params: dict[str, Any] = Field(default_factory=lambda: {"fast": 5, "slow": 20})


class ExecutionSettings(_Section):
    # Where `jts serve order-execution` sends orders: the paper venue service or a live broker.
    venue: Literal["paper", "kis", "creon"] = "paper"
    order_type: OrderType = OrderType.LIMIT
    notional_per_order: Decimal = Field(Decimal(10_000_000), gt=0)
    limit_offset_ticks: int = Field(1, ge=0, le=20)
    # Seconds a signal waits out a storage outage before it is parked as a dead letter
    # (kept under Kafka's 5-minute max.poll.interval, past which a consumer leaves its group).
    storage_give_up_after: float = Field(240.0, gt=0, le=280)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path(".jts")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite file.")
    clickhouse_url: str | None = Field(None, description="ClickHouse server URL; default chDB.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_json: bool = False
    bus: BusSettings = BusSettings()
    paper: PaperSettings = PaperSettings()
    feed: FeedSettings = FeedSettings()
    data: DataSettings = DataSettings()
    strategy: StrategySettings = StrategySettings()
    execution: ExecutionSettings = ExecutionSettings()
    serve: ServeSettings = ServeSettings()
    kis: KisSettings = KisSettings()
    creon: CreonConfig = CreonConfig()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _ch_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "chdb://")):
            raise ValueError("must be an http(s):// ClickHouse URL or chdb:// path")
        return value

    @model_validator(mode="after")
    def _fill_urls(self) -> Settings:
        if self.database_url is None:
            url = f"sqlite:///{(self.data_dir / 'jts.db').resolve()}"
            object.__setattr__(self, "database_url", url)
        return self

    @property
    def sql_url(self) -> str:
        assert self.database_url is not None
        return self.database_url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE", DEFAULT_CONFIG_FILE)
        toml = TomlConfigSettingsSource(settings_cls, toml_file=Path(path))
        return (init_settings, env_settings, toml, file_secret_settings)


def load_settings(**overrides: Any) -> Settings:
    """Load and validate settings; a bad one raises ConfigurationError naming it and its source."""
    path = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
    if path is not None and not Path(path).is_file():
        raise ConfigurationError(f"{ENV_PREFIX}CONFIG_FILE={path}: no such file")
    _check_unknown_env()
    # Read here first: a syntax error names the file, line and column; keys get their lines.
    toml = read_toml(Path(path or DEFAULT_CONFIG_FILE))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, overrides, toml)) from None
    except SettingsError as exc:
        raise ConfigurationError(
            f"cannot read settings: {exc}. Lists and tables in environment variables are "
            """JSON, e.g. JTS_FEED__SYMBOLS='["KRX:005930"]'"""
        ) from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigurationError(f"cannot read settings: {exc}") from None


# Variables with the prefix that are not settings (the file pointer, test harness knobs).
_NOT_SETTINGS = ("CONFIG_FILE", "TEST_", "PG_")


def _check_unknown_env() -> None:
    """A misspelt ``JTS_`` variable would otherwise be ignored silently: refuse it."""
    known = {name.upper() for name in Settings.model_fields}
    for variable in os.environ:
        if not variable.startswith(ENV_PREFIX):
            continue
        rest = variable[len(ENV_PREFIX) :]
        if rest.startswith(_NOT_SETTINGS):
            continue
        if rest.split("__", 1)[0] not in known:
            raise ConfigurationError(
                f"unknown setting {variable}; known: "
                + ", ".join(ENV_PREFIX + k for k in sorted(known))
            )


# A setting whose path holds one of these is never echoed back in an error.
_SECRET_WORDS = ("secret", "key", "token", "password")


def _describe(exc: ValidationError, overrides: dict[str, Any], toml: TomlFile | None = None) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        dotted = ".".join(loc)
        source = source_of(loc, prefix=ENV_PREFIX, overrides=overrides, toml=toml)
        value = error.get("input")
        secret = any(word in dotted.lower() for word in _SECRET_WORDS)
        shown = "" if isinstance(value, dict) or secret else f" (got {value!r})"
        lines.append(f"  {dotted} [{source}]: {error['msg']}{shown}")
    return "\n".join(lines)
