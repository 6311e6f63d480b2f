"""The KIS account pool over two fake KIS servers: failover, return, and `jts brokers pool`."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import account_config
from fakes.kis_venue import kis_settings
from jts.brokers.common.breaker import BreakerState
from jts.brokers.kis.pool import KisAccountPool
from jts.cli.main import app
from jts.domain.errors import BrokerUnavailable
from sockets import Port
from waiting import eventually

KEY_A = "PSaaaaAppKey0123456789abcdefghijklmn"
KEY_B = "PSbbbbAppKey0123456789abcdefghijklmn"
SYMBOLS_A = [f"KRX:{i:06d}" for i in range(100, 110)]
SYMBOLS_B = [f"KRX:{i:06d}" for i in range(200, 210)]


@pytest.fixture
def port_b() -> Iterator[Port]:
    """Account b's venue goes away and comes back on this port, held for the whole test."""
    with Port() as port:
        yield port


async def test_failed_account_symbols_move_and_come_back(tmp_path: Path, port_b: Port) -> None:
    async with FakeKis() as fake_a:
        fake_b = FakeKis()
        await fake_b.start(port_b.number)
        for fake, key, cano in ((fake_a, KEY_A, "50000001"), (fake_b, KEY_B, "50000002")):
            fake.add_account(app_key=key, app_secret=APP_SECRET, cano=cano)
            fake.set_price("000100", Decimal(10_000))
        accounts = [
            account_config(
                fake_a, name="a", symbols=tuple(SYMBOLS_A), max_symbols=20, focus="large caps"
            ),
            account_config(
                fake_b, name="b", symbols=tuple(SYMBOLS_B), max_symbols=20, cano="50000002"
            ),
        ]
        settings = kis_settings(
            accounts,
            tmp_path,
            secrets={"a": (KEY_A, APP_SECRET), "b": (KEY_B, APP_SECRET)},
            breaker_failures=2,
            breaker_reset=0.3,
        )
        pool = KisAccountPool(settings, state_dir=tmp_path / "state", probe_interval=0.2)
        changes: list[dict[str, list[str]]] = []
        pool.on_assignment(lambda a: changes.append(a.symbols))
        await pool.connect()
        assert pool.assignment.symbols == {"a": SYMBOLS_A, "b": SYMBOLS_B}
        for session in pool.sessions.values():
            session.guard.policy = type(session.guard.policy)(attempts=1)
        await fake_b.stop()  # account b's venue goes away
        market = pool.market_data()
        for _ in range(2):
            with pytest.raises(BrokerUnavailable):
                await pool.market["b"].latest_price("KRX:000100")
        assert pool.sessions["b"].breaker.state is BreakerState.OPEN
        assert pool.assignment.symbols == {"a": SYMBOLS_A + SYMBOLS_B}
        assert pool.market["a"].symbols == SYMBOLS_A + SYMBOLS_B
        # Requests for b's symbols now go through a.
        fake_a.set_price("000200", Decimal(20_000))
        assert await market.latest_price(SYMBOLS_B[0]) == Decimal(20_000)
        board = pool.board.read()
        assert board["kis:b"].state is BreakerState.OPEN
        await fake_b.start(port_b.number)  # b recovers; the prober notices
        fake_b.add_account(app_key=KEY_B, app_secret=APP_SECRET, cano="50000002")
        fake_b.set_price("000100", Decimal(10_000))
        await eventually(lambda: pool.sessions["b"].breaker.state is BreakerState.CLOSED)
        assert pool.assignment.symbols == {"a": SYMBOLS_A, "b": SYMBOLS_B}
        assert len(changes) == 2
        await pool.close()
        await fake_b.stop()


def test_brokers_pool_command_shows_assignment_budgets_and_health(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "jts.toml"
    universe = "\n".join(f"{i:06d}" for i in range(1, 1_801))
    (tmp_path / "universe.txt").write_text(universe + "\n")
    config.write_text(
        f"""
data_dir = "{tmp_path / "data"}"
[kis]
universe_file = "{tmp_path / "universe.txt"}"
[[kis.accounts]]
name = "kis-1"
account = "50000001-01"
focus = "KOSPI large-cap"
[[kis.accounts]]
name = "kis-2"
account = "50000002-01"
focus = "KOSDAQ tech"
[[kis.accounts]]
name = "kis-3"
account = "50000003-01"
focus = "Small-cap momentum"
"""
    )
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    for n in (1, 2, 3):
        monkeypatch.setenv(f"JTS_KIS__SECRETS__KIS_{n}__APP_KEY", f"key-{n}-{'k' * 30}")
        monkeypatch.setenv(f"JTS_KIS__SECRETS__KIS_{n}__APP_SECRET", f"secret-{n}-{'s' * 30}")
    result = CliRunner().invoke(app, ["brokers", "pool"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1,800 symbols" in result.output
    assert result.output.count("600/600") == 3
    assert "KOSDAQ tech" in result.output and "healthy" in result.output
    assert "secret-1" not in result.output and "key-1" not in result.output


def test_brokers_pool_without_credentials_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "jts.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[[kis.accounts]]\nname = "main"\naccount = "50000001-01"\n'
    )
    monkeypatch.setenv("JTS_CONFIG_FILE", str(config))
    result = CliRunner().invoke(app, ["brokers", "pool"])
    assert result.exit_code == 2
    assert "JTS_KIS__SECRETS__MAIN__APP_KEY" in result.output


async def test_brokers_pool_check_logs_every_account_in(tmp_path: Path) -> None:
    """`jts brokers pool --check` as its own process, against a fake KIS server."""
    async with FakeKis() as fake:
        fake.add_account(app_key=KEY_A, app_secret=APP_SECRET, cano="50000001")
        config = tmp_path / "jts.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n'
            "[kis]\n"
            'universe = ["KRX:005930", "KRX:000660"]\n'
            "[[kis.accounts]]\n"
            'name = "a"\n'
            'account = "50000001-01"\n'
            'environment = "real"\n'
            f'rest_url = "{fake.rest_url}"\n'
            f'ws_url = "{fake.ws_url}"\n'
        )
        env = {
            **os.environ,
            "JTS_CONFIG_FILE": str(config),
            "JTS_KIS__SECRETS__A__APP_KEY": KEY_A,
            "JTS_KIS__SECRETS__A__APP_SECRET": APP_SECRET,
            "COLUMNS": "200",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jts",
            "brokers",
            "pool",
            "--check",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        text = out.decode()
        assert proc.returncode == 0, text
        assert fake.token_issuances == 1
        assert "2/600" in text and "healthy" in text
        assert APP_SECRET not in text and KEY_A not in text


def test_the_trading_accounts_socket_is_left_to_order_execution(tmp_path: Path) -> None:
    """KIS allows one socket per app key: market data polls the trading account's symbols."""
    fake = FakeKis()
    fake.rest_url, fake.ws_url = "http://127.0.0.1:9", "ws://127.0.0.1:9"
    accounts = [
        account_config(fake, name="a", symbols=tuple(SYMBOLS_A), max_symbols=20),
        account_config(fake, name="b", symbols=tuple(SYMBOLS_B), max_symbols=20, cano="50000002"),
    ]
    settings = kis_settings(
        accounts, tmp_path, secrets={"a": (KEY_A, APP_SECRET), "b": (KEY_B, APP_SECRET)}
    )
    pool = KisAccountPool(settings, state_dir=tmp_path / "state", socket_reserved_for="a")
    try:
        rows = {row.name: row for row in pool.status()}
        assert (rows["a"].streamed, rows["a"].polled) == (0, 10)
        assert (rows["b"].streamed, rows["b"].polled) == (10, 0)
        assert pool.assignment.polled("a") == SYMBOLS_A
    finally:
        pool.windows.close()
        pool.board.close()
