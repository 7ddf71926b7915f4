"""standing orders: exchanges on recurring listings repeat until stopped

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repeats", sa.String(length=10), nullable=False, server_default="one-off")
        )
        batch_op.add_column(sa.Column("series_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("occurrence", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.create_index(batch_op.f("ix_exchanges_series_id"), ["series_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchanges_series_id"))
        batch_op.drop_column("occurrence")
        batch_op.drop_column("series_id")
        batch_op.drop_column("repeats")
