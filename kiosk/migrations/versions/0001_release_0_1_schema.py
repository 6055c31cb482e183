"""The schema of release 0.1, the last one without migrations; adopts a database it made.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

On an empty database this creates every table, index and constraint.  A database made by
release 0.1 or earlier (``init-db`` then ran ``create_all`` and added missing nullable columns,
but never indexes or constraints) has the tables already and no ``alembic_version``: for each
table present, the columns, unique constraints, foreign keys and indexes it lacks are added,
an index whose columns or condition changed since is made again, and nothing else is touched,
so its rows stay as they are.  A unique index or constraint that its rows would break (two
tickets held by one counter, say) stops the upgrade, naming the rows, and changes nothing.

The tables below are this revision's own copy of the models, as they stood at release 0.1:
later revisions change the database from here, never by editing this file.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.schema import CreateIndex, CreateTable

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('called', 'serving')")
SCHEMA = sa.MetaData()

sa.Table(
    "hall",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.JSON(), nullable=False),
    sa.Column("priority_policy", sa.String(length=16), nullable=False),
    sa.Column("priority_every_n", sa.Integer(), nullable=False),
    sa.Column("kiosk_ticket_seconds", sa.Integer(), nullable=False),
    sa.Column("opening_hours", sa.JSON(), nullable=False),
    sa.Column("closed_dates", sa.JSON(), nullable=False),
    sa.Column("timezone", sa.String(length=64), nullable=True),
    sa.Column("languages", sa.JSON(), nullable=True),
    sa.Column("day_close_delay_min", sa.Integer(), server_default="60", nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "kiosk_devices",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("token_hash"),
)
sa.Table(
    "report_cells",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("period", sa.String(length=8), server_default="day", nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("service_id", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=True),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("issued", sa.Integer(), nullable=False),
    sa.Column("served", sa.Integer(), nullable=False),
    sa.Column("no_show", sa.Integer(), nullable=False),
    sa.Column("cancelled", sa.Integer(), nullable=False),
    sa.Column("expired", sa.Integer(), nullable=False),
    sa.Column("open", sa.Integer(), nullable=False),
    sa.Column("transferred_out", sa.Integer(), nullable=False),
    sa.Column("waits", sa.LargeBinary(), nullable=False),
    sa.Column("walks", sa.LargeBinary(), nullable=False),
    sa.Column("service_times", sa.LargeBinary(), nullable=False),
    sa.Column("arrivals_by_hour", sa.LargeBinary(), nullable=False),
    sa.Column("served_by_hour", sa.LargeBinary(), nullable=False),
    sa.Column("ratings", sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_report_cells_day", "period", "business_date", "service_id"),
)
sa.Table(
    "report_days",
    SCHEMA,
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("final", sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column("built_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("business_date"),
)
sa.Table(
    "report_months",
    SCHEMA,
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("built_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("month"),
)
sa.Table(
    "services",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("code", sa.String(length=16), nullable=False),
    sa.Column("prefix", sa.String(length=4), nullable=False),
    sa.Column("names", sa.JSON(), nullable=False),
    sa.Column("category", sa.String(length=16), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("sort_order", sa.Integer(), nullable=False),
    sa.Column("target_wait_min", sa.Integer(), nullable=False),
    sa.Column("start_number", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code"),
)
sa.Table(
    "users",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("display_name", sa.String(length=128), nullable=False),
    sa.Column("password_hash", sa.String(length=256), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("api_token_hash", sa.String(length=64), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("api_token_hash"),
    sa.UniqueConstraint("username"),
)
sa.Table(
    "audit_log",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=True),
    sa.Column("action", sa.String(length=48), nullable=False),
    sa.Column("target", sa.String(length=128), nullable=False),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "counters",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=32), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("state_since", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "service_day_sequences",
    SCHEMA,
    sa.Column("service_id", sa.Integer(), nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("last_sequence", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
    sa.PrimaryKeyConstraint("service_id", "business_date"),
)
sa.Table(
    "counter_services",
    SCHEMA,
    sa.Column("counter_id", sa.Integer(), nullable=False),
    sa.Column("service_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["service_id"], ["services.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("counter_id", "service_id"),
)
sa.Table(
    "counter_sessions",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=False),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("paused_at", sa.DateTime(), nullable=True),
    sa.Column("paused_seconds", sa.Integer(), nullable=False),
    sa.Column("pause_count", sa.Integer(), nullable=False),
    sa.Column("handover_note", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
    sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_counter_sessions_counter_id", "counter_id"),
)
sa.Table(
    "tickets",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("token", sa.String(length=48), nullable=False),
    sa.Column("service_id", sa.Integer(), nullable=False),
    sa.Column("issued_service_id", sa.Integer(), nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("number", sa.String(length=16), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("priority", sa.Boolean(), nullable=False),
    sa.Column("lang", sa.String(length=8), nullable=False),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("issued_at", sa.DateTime(), nullable=False),
    sa.Column("called_at", sa.DateTime(), nullable=True),
    sa.Column("started_at", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("call_count", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=True),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("transferred_from_id", sa.Integer(), nullable=True),
    sa.Column("transfer_count", sa.Integer(), nullable=False),
    sa.Column("request_key", sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
    sa.ForeignKeyConstraint(["issued_service_id"], ["services.id"]),
    sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
    sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
    sa.ForeignKeyConstraint(["transferred_from_id"], ["services.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("issued_service_id", "business_date", "sequence"),
    sa.UniqueConstraint("request_key"),
    sa.UniqueConstraint("token"),
    sa.Index("ix_tickets_business_date", "business_date"),
    sa.Index("ix_tickets_queue", "status", "business_date", "service_id", "issued_at", "id"),
    # A counter holds at most one active ticket.
    sa.Index(
        "ux_tickets_active_counter", "counter_id", unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE
    ),
)
sa.Table(
    "user_counters",
    SCHEMA,
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("user_id", "counter_id"),
)
sa.Table(
    "ticket_events",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("type", sa.String(length=24), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=True),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
    sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_ticket_events_at", "at"),
    sa.Index("ix_ticket_events_ticket_id", "ticket_id"),
)
sa.Table(
    "visits",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("service_id", sa.Integer(), nullable=False),
    sa.Column("counter_id", sa.Integer(), nullable=True),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("outcome", sa.String(length=16), nullable=False),
    sa.Column("customer_name", sa.String(length=128), nullable=False),
    sa.Column("contact", sa.String(length=128), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=False),
    sa.Column("rating", sa.Integer(), nullable=True),
    sa.Column("rating_efficiency", sa.Integer(), nullable=True),
    sa.Column("rating_level", sa.Integer(), nullable=True),
    sa.Column("rating_attitude", sa.Integer(), nullable=True),
    sa.Column("rating_comment", sa.Text(), nullable=True),
    sa.Column("rated_at", sa.DateTime(), nullable=True),
    sa.Column("rating_source", sa.String(length=16), nullable=True),
    sa.Column("follow_up_done_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
    sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
    sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ticket_id"),
)
sa.Table(
    "complaints",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("visit_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("department", sa.String(length=128), nullable=False),
    sa.Column("priority", sa.String(length=16), nullable=False),
    sa.Column("due_date", sa.Date(), nullable=True),
    sa.Column("resolution", sa.Text(), nullable=False),
    sa.Column("follow_up_result", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["visit_id"], ["visits.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("visit_id"),
)
sa.Table(
    "rectification_cases",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("visit_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.Column("due_date", sa.Date(), nullable=False),
    sa.Column("assignee_id", sa.Integer(), nullable=True),
    sa.Column("finding", sa.Text(), nullable=False),
    sa.Column("measures", sa.Text(), nullable=False),
    sa.Column("rectified_at", sa.DateTime(), nullable=True),
    sa.Column("follow_up_reached", sa.Boolean(), nullable=True),
    sa.Column("follow_up_view", sa.Text(), nullable=False),
    sa.Column("re_rating", sa.Integer(), nullable=True),
    sa.Column("followed_up_at", sa.DateTime(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["assignee_id"], ["users.id"]),
    sa.ForeignKeyConstraint(["visit_id"], ["visits.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("visit_id"),
    sa.Index("ix_rectification_status_due", "status", "due_date"),
)


def upgrade() -> None:
    if context.is_offline_mode():  # `flask db upgrade --sql`: the SQL for an empty database
        for table in SCHEMA.sorted_tables:
            _create(table)
        return
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for table in SCHEMA.sorted_tables:
        if table.name in present:
            _complete(table)
        else:
            _create(table)


def downgrade() -> None:
    for table in reversed(SCHEMA.sorted_tables):
        op.drop_table(table.name)


def _create(table: sa.Table) -> None:
    op.execute(CreateTable(table))
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        op.execute(CreateIndex(index))


def _where(index: sa.Index, dialect: str) -> Any:
    return index.dialect_kwargs.get(f"{dialect}_where")


def _complete(table: sa.Table) -> None:
    """Bring a table made before migrations to this revision, keeping its rows."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    inspector = sa.inspect(bind)
    present = {column["name"] for column in inspector.get_columns(table.name)}
    missing = [column for column in table.columns if column.name not in present]
    refused = [c.name for c in missing if not c.nullable and c.server_default is None]
    if refused:
        raise RuntimeError(
            f"Table {table.name} lacks column(s) {', '.join(refused)}, which need a value for every "
            "row; this database is older than any release that can be upgraded."
        )
    new_uniques, new_foreign_keys = _missing_constraints(table, inspector, dialect)
    stale = _stale_indexes(table, inspector, dialect)
    # Refuse before anything changes.
    checks = [(list(c.columns), None) for c in new_uniques]
    checks += [(list(index.columns), _where(index, dialect)) for index, _found in stale if index.unique]
    for columns, where in checks:
        if all(column.name in present for column in columns):
            _refuse_duplicates(table, columns, where)

    for column in missing:
        op.add_column(table.name, column._copy())
    if (new_uniques or new_foreign_keys) and dialect == "sqlite":
        # SQLite adds a constraint only by copying the table: into this revision's own definition
        # of it, with every constraint and index (env.py turns foreign keys off meanwhile).
        with op.batch_alter_table(table.name, copy_from=table, recreate="always"):
            pass
        return
    if new_uniques or new_foreign_keys:
        with op.batch_alter_table(table.name) as batch:
            for constraint in new_uniques:
                batch.create_unique_constraint(None, list(constraint.columns.keys()))
            for fk in new_foreign_keys:
                batch.create_foreign_key(
                    None,
                    fk.referred_table.name,
                    list(fk.column_keys),
                    [element.column.name for element in fk.elements],
                    ondelete=fk.ondelete,
                )
    for index, found in stale:
        if found:
            op.drop_index(str(index.name), table_name=table.name)
        op.execute(CreateIndex(index))


def _missing_constraints(
    table: sa.Table, inspector: Any, dialect: str
) -> tuple[list[sa.UniqueConstraint], list[sa.ForeignKeyConstraint]]:
    """This revision's unique constraints and foreign keys that the table lacks."""
    uniques = {frozenset(u["column_names"]) for u in inspector.get_unique_constraints(table.name)}
    uniques |= {
        frozenset(i["column_names"])
        for i in inspector.get_indexes(table.name)
        if i["unique"] and i.get("dialect_options", {}).get(f"{dialect}_where") is None
    }
    uniques.add(frozenset(inspector.get_pk_constraint(table.name)["constrained_columns"]))
    new_uniques = [
        constraint
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint) and frozenset(constraint.columns.keys()) not in uniques
    ]
    foreign_keys = {
        (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
        for fk in inspector.get_foreign_keys(table.name)
    }
    new_foreign_keys = [
        fk
        for fk in table.foreign_key_constraints
        if (tuple(fk.column_keys), fk.referred_table.name, tuple(e.column.name for e in fk.elements))
        not in foreign_keys
    ]
    return new_uniques, new_foreign_keys


def _stale_indexes(table: sa.Table, inspector: Any, dialect: str) -> list[tuple[sa.Index, bool]]:
    """This revision's indexes that the table lacks or has otherwise; with whether one is there."""
    indexes = {index["name"]: index for index in inspector.get_indexes(table.name)}
    stale = []
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        found = indexes.get(str(index.name))
        if found is not None and (
            found["column_names"] == [column.name for column in index.columns]
            and bool(found["unique"]) == bool(index.unique)
            and (found.get("dialect_options", {}).get(f"{dialect}_where") is None)
            == (_where(index, dialect) is None)
        ):
            continue
        stale.append((index, found is not None))
    return stale


def _refuse_duplicates(table: sa.Table, columns: list[sa.Column[Any]], where: Any) -> None:
    """Stop, naming the rows, before a unique index or constraint that the rows would break."""
    query = (
        sa.select(*(sa.column(c.name) for c in columns), sa.func.count().label("rows"))
        .select_from(sa.table(table.name))
        .where(*(sa.column(c.name).is_not(None) for c in columns))
        .group_by(*(sa.column(c.name) for c in columns))
        .having(sa.func.count() > 1)
    )
    if where is not None:
        query = query.where(where)
    clashes = op.get_bind().execute(query).fetchall()
    if clashes:
        names = ", ".join(c.name for c in columns)
        shown = "; ".join(f"{tuple(row[:-1])} in {row[-1]} rows" for row in clashes[:10])
        condition = f" where {where}" if where is not None else ""
        raise RuntimeError(
            f"Cannot make {table.name} ({names}) unique{condition}: {shown}. Correct these rows "
            "(e.g. `flask close-day` expires tickets left at counters on past days), then run init-db again."
        )
