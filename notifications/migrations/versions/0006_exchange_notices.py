"""exchange notices: each step of an exchange told to its organisations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("author_organisation_id", sa.String(length=36), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("listing_title", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_notices")),
        sa.UniqueConstraint(
            "exchange_id", "version", "step", "organisation_id", name="uq_notice_once"
        ),
    )
    with op.batch_alter_table("exchange_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_notices_exchange_id"), ["exchange_id"])
        batch_op.create_index(
            batch_op.f("ix_exchange_notices_organisation_id"), ["organisation_id"]
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="match")
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("kind")
    op.drop_table("exchange_notices")
