"""Each ticket keeps the wait estimate shown when it was issued (DESIGN §12).  NULL on older rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("estimated_wait_s_at_issue", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("estimated_wait_s_at_issue")
