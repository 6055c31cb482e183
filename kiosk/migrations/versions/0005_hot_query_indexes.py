"""Indexes for the queries the queue runs all day: a service's last finished tickets (its
handling time, for every estimate) and a counter's last visit (the rating tablet's prompt).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 15:00:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_recent_done", "tickets", ["service_id", "status", "finished_at"])
    op.create_index("ix_visits_counter_finished", "visits", ["counter_id", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_visits_counter_finished", table_name="visits")
    op.drop_index("ix_tickets_recent_done", table_name="tickets")
