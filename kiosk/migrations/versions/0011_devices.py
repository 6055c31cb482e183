"""The hall's public screens and their last heartbeat (设备故障应急).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("sound_on", sa.Boolean(), nullable=True),
        sa.Column("printer", sa.String(length=12), nullable=True),
        sa.Column("page_version", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name", name="uq_devices_kind_name"),
    )


def downgrade() -> None:
    op.drop_table("devices")
