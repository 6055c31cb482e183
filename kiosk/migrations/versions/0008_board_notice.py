"""The notice line the admin writes for the hall board, per language.  NULL, as on older rows, reads as none.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("notice")
