"""Bookings (预约): booking settings, slots and bookings; booked tickets queue from their slot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Tickets gain ``queued_at`` (their place in the queue: the issue time, for a booked ticket its
slot's start; every existing ticket gets its issue time) and ``series`` ("" walk-in, "Y"
booked), and the guard against a number given twice now counts each series on its own, as
does the day's sequence of each service.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('called', 'serving')")
ACTIVE_BOOKING = sa.text("state IN ('booked', 'checked_in')")
OLD_NUMBER = ["issued_service_id", "business_date", "sequence"]
NEW_NUMBER = ["issued_service_id", "business_date", "series", "sequence"]
# Names the unnamed constraints SQLite reflects, so that batch mode can drop one of them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of the table's unique constraint (or index) on exactly these columns."""
    inspector = sa.inspect(op.get_bind())
    for found in inspector.get_unique_constraints(table):
        if found["column_names"] == columns and found["name"]:
            return str(found["name"])
    return f"uq_{table}_{'_'.join(columns)}"


def _tickets() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    old_unique = _unique_name("tickets", OLD_NUMBER)
    op.drop_index("ux_tickets_active_counter", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    with op.batch_alter_table("tickets", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("series", sa.String(length=4), server_default="", nullable=False))
    op.execute("UPDATE tickets SET queued_at = issued_at")
    with op.batch_alter_table(
        "tickets", naming_convention=NAMING, recreate="always" if sqlite else "auto"
    ) as batch:
        batch.alter_column("queued_at", existing_type=sa.DateTime(), nullable=False)
        batch.drop_constraint(old_unique, type_="unique")
        batch.create_unique_constraint("uq_tickets_day_number", NEW_NUMBER)
    op.create_index(
        "ix_tickets_queue", "tickets", ["status", "business_date", "service_id", "queued_at", "id"]
    )
    op.create_index(
        "ux_tickets_active_counter",
        "tickets",
        ["counter_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def _sequences(series: bool = True) -> None:
    """The day's sequence of each service, per series (the primary key gains ``series``), or back."""
    key = ["service_id", "business_date", "series"] if series else ["service_id", "business_date"]
    op.create_table(
        "service_day_sequences_new",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        *([sa.Column("series", sa.String(length=4), server_default="", nullable=False)] if series else []),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint(*key),
    )
    walk_ins = "" if series else " WHERE series = ''"
    op.execute(
        "INSERT INTO service_day_sequences_new (service_id, business_date, last_sequence) "
        f"SELECT service_id, business_date, last_sequence FROM service_day_sequences{walk_ins}"
    )
    op.drop_table("service_day_sequences")
    op.rename_table("service_day_sequences_new", "service_day_sequences")


def _booking_tables() -> None:
    op.create_table(
        "booking_settings",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("days_ahead", sa.Integer(), nullable=False),
        sa.Column("cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("checkin_before_min", sa.Integer(), nullable=False),
        sa.Column("checkin_after_min", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("capacity_overrides", sa.JSON(), nullable=False),
        sa.Column("noshow_limit", sa.Integer(), nullable=False),
        sa.Column("noshow_block_days", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("service_id"),
    )
    op.create_table(
        "booking_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id", "starts_at"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("token", sa.String(length=48), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("slot_end", sa.DateTime(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("missed_at", sa.DateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["slot_id"], ["booking_slots.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_bookings_due", "bookings", ["state", "slot_start"])
    op.create_index("ix_bookings_phone", "bookings", ["phone", "state"])
    op.create_index(
        "ux_bookings_active_number",
        "bookings",
        ["phone", "service_id", "business_date"],
        unique=True,
        sqlite_where=ACTIVE_BOOKING,
        postgresql_where=ACTIVE_BOOKING,
    )


def upgrade() -> None:
    _tickets()
    _sequences()
    _booking_tables()


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("booking_slots")
    op.drop_table("booking_settings")
    sqlite = op.get_bind().dialect.name == "sqlite"
    _sequences(series=False)
    op.drop_index("ux_tickets_active_counter", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    with op.batch_alter_table("tickets", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint("uq_tickets_day_number", type_="unique")
        batch.create_unique_constraint("uq_tickets_issued_service_id_business_date_sequence", OLD_NUMBER)
        batch.drop_column("series")
        batch.drop_column("queued_at")
    op.create_index(
        "ix_tickets_queue", "tickets", ["status", "business_date", "service_id", "issued_at", "id"]
    )
    op.create_index(
        "ux_tickets_active_counter",
        "tickets",
        ["counter_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
