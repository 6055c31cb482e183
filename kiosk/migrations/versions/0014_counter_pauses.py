"""Counter pauses: each pause's start and end, so estimates know when counters usually pause.

Counter sessions' index on the counter gains the opening time: the estimates read each
counter's days on duty of the past week.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_counter_pauses_counter_started", "counter_pauses", ["counter_id", "started_at"])
    op.create_index("ix_counter_sessions_counter_opened", "counter_sessions", ["counter_id", "opened_at"])
    op.drop_index("ix_counter_sessions_counter_id", table_name="counter_sessions")


def downgrade() -> None:
    op.create_index("ix_counter_sessions_counter_id", "counter_sessions", ["counter_id"])
    op.drop_index("ix_counter_sessions_counter_opened", table_name="counter_sessions")
    op.drop_index("ix_counter_pauses_counter_started", table_name="counter_pauses")
    op.drop_table("counter_pauses")
