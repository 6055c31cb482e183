"""Scheduled notifications: the once-only guard (booking reminders, overdue cases) and the lead time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_sent_once",
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event", "ref"),
    )
    with op.batch_alter_table("notify_settings") as batch:
        batch.add_column(sa.Column("reminder_lead_min", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notify_settings") as batch:
        batch.drop_column("reminder_lead_min")
    op.drop_table("notify_sent_once")
