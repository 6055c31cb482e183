"""Bringing an existing database up to the models where that is safe: columns added since.

Until the project has real migrations (DESIGN §4 plans Alembic), ``init-db`` creates missing
tables (``create_all``) and then adds the missing columns that can be added to a table with
rows: nullable ones and ones with a server default.  Anything else is reported, not guessed.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.schema import CreateColumn

from queue_engine.core.models import Base


def add_missing_columns(engine: Engine) -> tuple[list[str], list[str]]:
    """Add the models' columns that existing tables lack; returns (added, not addable) 'table.column'."""
    added: list[str] = []
    refused: list[str] = []
    with engine.begin() as connection:
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                name = f"{table.name}.{column.name}"
                if not column.nullable and column.server_default is None:
                    refused.append(name)
                    continue
                definition = CreateColumn(column).compile(dialect=engine.dialect)
                quoted = engine.dialect.identifier_preparer.quote(table.name)
                connection.exec_driver_sql(f"ALTER TABLE {quoted} ADD COLUMN {definition}")
                added.append(name)
    return added, refused
