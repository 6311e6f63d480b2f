"""Alembic environment: migrations run on the connection ``jts.storage.sql.migrate`` hands in.

There is no alembic.ini: the caller builds the Config and puts an open connection in
``config.attributes["connection"]``, so URLs (and their passwords) never pass
through configparser interpolation.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from jts.domain.errors import StorageError
from jts.storage.sql.tables import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise StorageError("migrations need a connection: run them through jts.storage.sql.migrate")
    run_migrations(connection)


main()
