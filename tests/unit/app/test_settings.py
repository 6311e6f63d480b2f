"""Settings: embedded defaults, JTS_* variables, a TOML file, errors that name the setting."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from jts.app.checks import bar_checks
from jts.app.checks import collector_config
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


def test_errors_in_the_toml_file_are_named_by_file_and_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("# paper trading\n[execution]\nnotional_per_order = 0\n")
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    message = refused()
    assert f"execution.notional_per_order [{config} line 3]" in message
    assert "JTS_EXECUTION__NOTIONAL_PER_ORDER" not in message  # no variable was set

    config.write_text(
        "[feed]\nseed = 3\n\n[[kis.accounts]]\nname = 'main'\naccount = '12345678-01'\n"
        "[[kis.accounts]]\nname = 'Bad Name'\naccount = '12345678-02'\n"
    )
    assert f"kis.accounts.1.name [{config} line 8]" in refused()


def test_a_toml_syntax_error_names_file_line_and_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[execution]\nnotional_per_order = 1\n[feed]\nsessions = \n")
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    message = refused()
    assert message.startswith(f"settings file {config} line 4, column 12: ")
    (tmp_path / "jts.toml").write_text("[execution\n")  # the default file, too
    monkeypatch.delenv("JTS_CONFIG_FILE")
    assert refused().startswith("settings file jts.toml line 1, column 11: ")


def test_a_variable_over_the_toml_file_is_the_one_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "jts.toml").write_text("[bus]\nlanes = 2\n")
    monkeypatch.setenv("JTS_BUS__LANES", "0")
    assert "bus.lanes [env JTS_BUS__LANES]" in refused()
    monkeypatch.delenv("JTS_BUS__LANES")
    assert "bus.lanes [command option]" in refused(bus={"lanes": 0})


def test_the_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JTS_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    monkeypatch.setenv("JTS_LOG_LEVEL", "Info")
    assert load_settings().log_level == "INFO"


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


def test_the_bar_jump_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().data.max_jump == Decimal("0.30")
    monkeypatch.setenv("JTS_DATA__MAX_JUMP", "0.5")
    settings = load_settings()
    assert settings.data.max_jump == Decimal("0.5")
    assert bar_checks(settings).max_jump == Decimal("0.5")
    assert collector_config(settings).max_jump == Decimal("0.5")
    monkeypatch.setenv("JTS_DATA__MAX_JUMP", "0")
    assert "data.max_jump" in refused()


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
