"""match versions: the read model remembers the listing versions a pair was evaluated at

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listing_matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listing_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("counterpart_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            batch_op.f("ix_listing_matches_counterpart_id"), ["counterpart_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("listing_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_matches_counterpart_id"))
        batch_op.drop_column("counterpart_version")
        batch_op.drop_column("listing_version")
