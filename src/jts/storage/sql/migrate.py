"""Schema migrations, run from code: ``jts db upgrade`` and the start-up schema check.

The Alembic configuration is built here (script location = this package's
``migrations`` folder), so an installed JTS needs no alembic.ini and no working
directory. Production code never calls ``create_all``: the schema is whatever the
migrations made it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from jts.domain.errors import StorageError
from jts.storage.sql.engine import create_sync_engine_for
from jts.storage.sql.engine import sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations; no file involved."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (default: the newest)."""
    engine = create_sync_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except (SQLAlchemyError, CommandError) as exc:
        raise StorageError(f"migrating {_redacted(url)} to {revision} failed: {exc}") from exc
    finally:
        engine.dispose()


def current_revision(url: str, *, read_only: bool = False) -> str | None:
    """The revision the database is at; None when it was never migrated.

    ``read_only``: look without creating or writing anything (a missing SQLite file is
    an empty database), so it works on a read-only data folder.
    """
    path = sqlite_path(url) if read_only else None
    if path is not None and not path.expanduser().exists():
        return None
    engine = create_sync_engine_for(url, read_only=read_only)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the schema version of {_redacted(url)}: {exc}") from exc
    finally:
        engine.dispose()


def check_schema_current(url: str, *, read_only: bool = False) -> None:
    """Refuse to run on a database whose schema differs from what this code expects."""
    current = current_revision(url, read_only=read_only)
    head = head_revision()
    if current == head:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    where = _redacted(url)
    if current is None:
        raise StorageError(
            f"database {where} has no JTS schema (expected revision {head}): run `jts db upgrade`"
        )
    if current in known:
        raise StorageError(
            f"database {where} is at schema revision {current}, this JTS needs {head}: "
            "run `jts db upgrade`"
        )
    raise StorageError(
        f"database {where} is at schema revision {current}, unknown to this JTS "
        f"(newest known {head}): it was migrated by a newer version; upgrade JTS"
    )


def _redacted(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
