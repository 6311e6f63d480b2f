"""Settings: embedded defaults, JTS_* variables, a TOML file, errors that name the setting."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.domain.enums import OrderType
from jts.domain.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No inherited JTS_ variables, and a working directory without a jts.toml."""
    for name in list(os.environ):
        if name.startswith("JTS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(**overrides: object) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    return str(caught.value)


def test_defaults_are_the_embedded_platform(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == Path(".jts")
    assert settings.sql_url == f"sqlite:///{(tmp_path / '.jts' / 'jts.db').resolve()}"
    assert settings.clickhouse_url is None  # chDB under data_dir
    assert settings.feed.source == "simulated"
    assert (settings.bus.lanes, settings.bus.queue_size) == (4, 1024)
    assert settings.paper.starting_cash == Decimal(100_000_000)
    assert isinstance(settings.paper.starting_cash, Decimal)
    assert settings.paper.commission_rate == Decimal("0.00015")
    assert settings.strategy.name == "sma_cross"
    assert settings.execution.order_type is OrderType.LIMIT


def test_the_sqlite_file_follows_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "elsewhere")
    assert settings.sql_url == f"sqlite:///{(tmp_path / 'elsewhere' / 'jts.db').resolve()}"
    explicit = load_settings(database_url="postgresql://jts@localhost/jts")
    assert explicit.sql_url == "postgresql://jts@localhost/jts"


def test_environment_variables_and_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JTS_DATA_DIR", "/srv/jts")
    monkeypatch.setenv("JTS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("JTS_CLICKHOUSE_URL", "http://localhost:8123")
    monkeypatch.setenv("JTS_PAPER__STARTING_CASH", "50000000")
    monkeypatch.setenv("JTS_PAPER__COMMISSION_RATE", "0.00025")
    monkeypatch.setenv("JTS_BUS__LANES", "8")
    monkeypatch.setenv("JTS_FEED__SYMBOLS", '["KRX:005930", "KRX:000660"]')
    settings = load_settings()
    assert settings.data_dir == Path("/srv/jts")
    assert settings.sql_url == f"sqlite:///{Path('/srv/jts/jts.db').resolve()}"
    assert settings.log_level == "DEBUG"
    assert settings.clickhouse_url == "http://localhost:8123"
    assert settings.paper.starting_cash == Decimal(50_000_000)
    assert settings.paper.commission_rate == Decimal("0.00025")  # exact, never a float
    assert settings.bus.lanes == 8
    assert settings.feed.symbols == ("KRX:005930", "KRX:000660")
    # Untouched fields of a section keep their defaults.
    assert settings.paper.currency == "KRW"


def test_a_toml_file_named_by_jts_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "conf" / "paper.toml"
    config.parent.mkdir()
    config.write_text(
        'data_dir = "from-file"\n'
        'log_level = "INFO"\n'
        "[paper]\n"
        "starting_cash = 5000000\n"
        "commission_rate = 0.00025\n"
        "[execution]\n"
        'order_type = "MARKET"\n'
    )
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    settings = load_settings()
    assert settings.data_dir == Path("from-file")
    assert settings.log_level == "INFO"
    assert settings.paper.starting_cash == Decimal(5_000_000)
    assert settings.paper.commission_rate == Decimal("0.00025")
    assert settings.execution.order_type is OrderType.MARKET

    # Environment beats the file; arguments beat both.
    monkeypatch.setenv("JTS_PAPER__STARTING_CASH", "7000000")
    monkeypatch.setenv("JTS_LOG_LEVEL", "ERROR")
    settings = load_settings(log_level="WARNING")
    assert settings.paper.starting_cash == Decimal(7_000_000)
    assert settings.log_level == "WARNING"
    assert settings.data_dir == Path("from-file")


def test_jts_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "jts.toml").write_text("[bus]\nlanes = 2\n")
    assert load_settings().bus.lanes == 2


def test_a_bad_value_names_the_setting_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JTS_PAPER__STARTING_CASH", "abc")
    message = refused()
    assert "paper.starting_cash" in message
    assert "JTS_PAPER__STARTING_CASH" in message
    assert "'abc'" in message


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("JTS_PAPER__STARTING_CASH", "-5", "paper.starting_cash"),
        ("JTS_LOG_LEVEL", "LOUD", "log_level"),
        ("JTS_BUS__LANES", "0", "bus.lanes"),
        ("JTS_DATABASE_URL", "mysql://db/jts", "database_url"),
        ("JTS_CLICKHOUSE_URL", "tcp://ch:9000", "clickhouse_url"),
        ("JTS_FEED__SYMBOLS", '["005930"]', "feed.symbols"),
        ("JTS_FEED__SOURCE", "file", "feed.replay_file"),
        ("JTS_PAPER__STARTING_CAHS", "1", "paper.starting_cahs"),
    ],
)
def test_every_invalid_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert setting in refused()


def test_errors_in_the_toml_file_are_named_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[execution]\nnotional_per_order = 0\n")
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    message = refused()
    assert "execution.notional_per_order" in message
    assert "JTS_EXECUTION__NOTIONAL_PER_ORDER" in message

    config.write_text("[execution\nnotional_per_order = 1\n")
    assert "cannot read settings" in refused()


def test_an_unknown_jts_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JTS_DATADIR", "/tmp/typo")
    message = refused()
    assert "JTS_DATADIR" in message
    assert "JTS_DATA_DIR" in message  # the known names are listed


def test_harness_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JTS_TEST_POSTGRES_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("JTS_PG_PORT", "5433")
    assert load_settings().feed.source == "simulated"


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "jts.toml"
    monkeypatch.setenv("JTS_CONFIG_FILE", str(missing))
    message = refused()
    assert "JTS_CONFIG_FILE" in message
    assert str(missing) in message


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]
    assert isinstance(settings, Settings)


@pytest.mark.parametrize(
    ("variable", "value", "setting", "why"),
    [
        # 1e30 won of cash is beyond Decimal's 28 digits: the books stopped balancing.
        ("JTS_PAPER__STARTING_CASH", "1e30", "paper.starting_cash", "less than or equal"),
        ("JTS_PAPER__STARTING_CASH", "Infinity", "paper.starting_cash", "finite"),
        ("JTS_PAPER__STARTING_CASH", "100000.5", "paper.starting_cash", "decimals than KRW"),
        ("JTS_PAPER__CURRENCY", "XYZ", "paper.currency", "unknown currency"),
        # The KRX tax schedule starts in 2023: a 2020 run failed midway, after storing orders.
        ("JTS_FEED__START_DATE", "2020-01-02", "feed.start_date", "schedule starts 2023-01-01"),
    ],
)
def test_settings_beyond_what_the_platform_can_hold_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str, why: str
) -> None:
    monkeypatch.setenv(variable, value)
    message = refused()
    assert setting in message
    assert why in message


def test_the_largest_allowed_cash_and_earliest_start_are_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JTS_PAPER__STARTING_CASH", "1000000000000000")
    monkeypatch.setenv("JTS_FEED__START_DATE", "2023-01-02")
    settings = load_settings()
    assert settings.paper.starting_cash == Decimal(10) ** 15
    usdt = load_settings(paper={"currency": "USDT", "starting_cash": "1000.12345678"})
    assert usdt.paper.starting_cash == Decimal("1000.12345678")
