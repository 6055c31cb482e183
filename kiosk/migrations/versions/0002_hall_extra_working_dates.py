"""The hall's extra working dates (调休上班): weekend days worked.  NULL, as on older rows, reads as none.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:48:28.010350
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extra_working_dates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("extra_working_dates")
