"""accounts: inbox read state per member, confirmed contact addresses, erased organisations'
alerts kept as anonymous tallies

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_reads",
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "member_id", name="pk_alert_reads"),
    )
    op.create_table(
        "erased_alert_tallies",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("emails_sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "category", "role", name="pk_erased_alert_tallies"),
    )
    with op.batch_alter_table("organisations") as batch_op:
        # Addresses known before confirmation existed count as confirmed, as their events do.
        batch_op.add_column(
            sa.Column(
                "contact_email_verified", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    _backfill_reads()


def _backfill_reads() -> None:
    """What an organisation had read stays read for every one of its members."""
    bind = op.get_bind()
    members = {
        organisation_id: _member_ids(listed)
        for organisation_id, listed in bind.execute(
            sa.select(sa.column("id", sa.String()), sa.column("members", sa.JSON())).select_from(
                sa.table("organisations")
            )
        )
    }
    reads = sa.table(
        "alert_reads",
        sa.column("alert_id", sa.String()),
        sa.column("member_id", sa.String()),
        sa.column("read_at", sa.DateTime(timezone=True)),
    )
    alerts = sa.table(
        "alerts",
        sa.column("id", sa.String()),
        sa.column("organisation_id", sa.String()),
        sa.column("read_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(alerts.c.id, alerts.c.organisation_id, alerts.c.read_at).where(
            alerts.c.read_at.is_not(None)
        )
    )
    batch: list[dict[str, object]] = []
    for alert_id, organisation_id, read_at in rows:
        for member_id in members.get(organisation_id, []):
            batch.append(
                {
                    "alert_id": alert_id,
                    "member_id": member_id,
                    "read_at": read_at or datetime.now(UTC),
                }
            )
        if len(batch) >= 5000:
            bind.execute(reads.insert(), batch)
            batch = []
    if batch:
        bind.execute(reads.insert(), batch)


def _member_ids(listed: Any) -> list[str]:
    if not isinstance(listed, list):
        return []
    return [str(m["id"]) for m in listed if isinstance(m, dict) and m.get("id")]


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_column("contact_email_verified")
    op.drop_table("erased_alert_tallies")
    op.drop_table("alert_reads")
