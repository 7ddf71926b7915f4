"""exchanges: requests, answers, messages and hand-overs; listings' remaining quantity

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remaining_quantity", sa.Float(), nullable=True))
    op.create_table(
        "exchanges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("listing_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("awaiting", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_handed_over", sa.Float(), nullable=True),
        sa.Column("requester_handed_over", sa.Float(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        for column in ("listing_id", "owner_id", "requester_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_exchanges_{column}"), [column], unique=False)
    op.create_table(
        "exchange_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_messages")),
    )
    with op.batch_alter_table("exchange_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_messages_exchange_id"), ["exchange_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("exchange_messages")
    op.drop_table("exchanges")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("remaining_quantity")
