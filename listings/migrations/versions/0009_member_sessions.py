"""logins are kept on the server, so log-out and revocation end them in every service

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_member_sessions_member_id_members"
        ),
        sa.PrimaryKeyConstraint("digest", name="pk_member_sessions"),
    )
    op.create_index("ix_member_sessions_member_id", "member_sessions", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_member_sessions_member_id", table_name="member_sessions")
    op.drop_table("member_sessions")
