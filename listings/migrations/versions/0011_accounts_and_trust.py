"""accounts and trust: confirmed addresses, organisation roles, profile, links, audit log

Existing members and contact addresses were accepted before confirmation existed: they are
kept as confirmed, and every existing member becomes an owner of their organisation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contact_email_verified", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("website", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "organisation_role", sa.String(length=10), nullable=False, server_default="owner"
            )
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=36), nullable=True))
    op.create_table(
        "account_links",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_account_links"),
    )
    op.create_index("ix_account_links_organisation_id", "account_links", ["organisation_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("actor_organisation_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_account_links_organisation_id", table_name="account_links")
    op.drop_table("account_links")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("created_by")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("organisation_role")
        batch_op.drop_column("email_verified")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("website")
        batch_op.drop_column("description")
        batch_op.drop_column("contact_email_verified")
