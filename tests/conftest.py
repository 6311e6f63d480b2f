"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from jts.storage.memory import MemoryStore
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore

REPO_ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------
# Relational store: SQLite and a real PostgreSQL (scripts/postgres.sh)
#
#   postgres_server_url  session: JTS_TEST_POSTGRES_URL, else the project's local server
#   postgres_url         a fresh, empty database on that server, dropped afterwards
#   sqlite_url           a fresh SQLite file under tmp_path
#   sql_url              parametrized over both back ends (postgres marked `postgres`)
#   sql_store            SqlStore on a migrated ``sql_url``
#   store                the repository ports on memory, SQLite and PostgreSQL alike:
#                        MemoryStore or SqlStore (postgres marked `postgres`)
#
# PostgreSQL tests are never skipped: if the server cannot start, they error.
# ---------------------------------------------------------------------------------------

POSTGRES_SCRIPT = REPO_ROOT / "scripts" / "postgres.sh"


def _run_postgres_script(command: str) -> str:
    result = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/postgres.sh {command} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout.strip()


def _libpq_url(url: str) -> str:
    """psycopg wants ``postgresql://``; settings may carry a SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    configured = os.environ.get("JTS_TEST_POSTGRES_URL")
    if configured:
        return configured
    _run_postgres_script("start")
    return _run_postgres_script("url")


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """CREATE a uniquely named database, yield its URL, DROP it (even if still in use)."""
    name = f"jts_test_{uuid.uuid4().hex[:16]}"
    admin = _libpq_url(server_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'jts.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def sql_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def sql_store(sql_url: str) -> AsyncIterator[SqlStore]:
    upgrade(sql_url)
    store = SqlStore.open(sql_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest) -> str | None:
    """The database behind ``store``; None for the in-memory store."""
    if request.param == "memory":
        return None
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def store(store_url: str | None) -> AsyncIterator[SqlStore | MemoryStore]:
    if store_url is None:
        opened: SqlStore | MemoryStore = MemoryStore()
    else:
        upgrade(store_url)
        opened = SqlStore.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()


# ---------------------------------------------------------------------------------------
# End of relational store fixtures
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# Kafka: a real broker from scripts/kafka.sh (Kafka 4.4, KRaft, the machine's Java)
#
#   kafka_bootstrap   session: JTS_TEST_KAFKA_BOOTSTRAP, else the project's local broker
#   kafka_restart     a callable that restarts that broker (fault tests)
#
# Tests isolate themselves with a unique topic prefix; none are skipped.
# ---------------------------------------------------------------------------------------

KAFKA_SCRIPT = REPO_ROOT / "scripts" / "kafka.sh"


def _run_kafka_script(command: str) -> str:
    result = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/kafka.sh {command} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    configured = os.environ.get("JTS_TEST_KAFKA_BOOTSTRAP")
    if configured:
        return configured
    _run_kafka_script("start")
    return _run_kafka_script("bootstrap")


@pytest.fixture
def kafka_restart(kafka_bootstrap: str) -> Callable[[], None]:
    def restart() -> None:
        _run_kafka_script("restart")

    return restart
