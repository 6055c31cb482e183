"""Rating tablets (评价器): a counter's visitor-facing device, registered like a kiosk.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:40:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_tablets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("rating_tablets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_tablets_counter_id"), ["counter_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rating_tablets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_tablets_counter_id"))
    op.drop_table("rating_tablets")
