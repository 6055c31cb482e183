"""Visitor channels: the SMS gateway, quiet hours and templates; contacts visitors left; STOP replies.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visitor_channel_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sms_url", sa.String(length=500), nullable=False),
        sa.Column("sms_method", sa.String(length=8), nullable=False),
        sa.Column("sms_content_type", sa.String(length=80), nullable=False),
        sa.Column("sms_body", sa.String(length=2000), nullable=False),
        sa.Column("sms_header", sa.String(length=200), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("templates", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "visitor_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("push", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("booking_id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_table(
        "sms_stops",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )


def downgrade() -> None:
    op.drop_table("sms_stops")
    op.drop_table("visitor_contacts")
    op.drop_table("visitor_channel_settings")
