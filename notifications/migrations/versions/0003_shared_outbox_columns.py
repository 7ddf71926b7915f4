"""shared outbox columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:52:38.929361
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The outbox now uses the columns every service shares (shared/outbox.py): rename, keep rows.
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_outbox_published_at"))
        batch_op.alter_column("value", new_column_name="payload")
        batch_op.alter_column("published_at", new_column_name="sent_at")
    op.create_index(op.f("ix_notification_outbox_sent_at"), "notification_outbox", ["sent_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_outbox_sent_at"), "notification_outbox")
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.alter_column("sent_at", new_column_name="published_at")
        batch_op.alter_column("payload", new_column_name="value")
    op.create_index(
        op.f("ix_notification_outbox_published_at"), "notification_outbox", ["published_at"]
    )
