"""alerts and exchange notices indexed by creation time, for the live feeds' one query

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:30:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])
    op.create_index("ix_exchange_notices_created_at", "exchange_notices", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_exchange_notices_created_at", table_name="exchange_notices")
    op.drop_index("ix_alerts_created_at", table_name="alerts")
