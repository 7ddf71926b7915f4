"""alerts show what the offer costs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_mode", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("price_amount", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("price_amount")
        batch_op.drop_column("price_mode")
