"""webhook secrets sealed at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 16:36:39.487397
"""

import sqlalchemy as sa
from alembic import op

from notifications.secret_box import SEALED, seal, unseal

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

endpoints = sa.table(
    "webhook_endpoints", sa.column("id", sa.String), sa.column("secret", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=100), type_=sa.String(length=400)
        )
    connection = op.get_bind()
    for row in connection.execute(sa.select(endpoints.c.id, endpoints.c.secret)).all():
        if not row.secret.startswith(SEALED):
            connection.execute(
                endpoints.update().where(endpoints.c.id == row.id).values(secret=seal(row.secret))
            )


def downgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(endpoints.c.id, endpoints.c.secret)).all():
        connection.execute(
            endpoints.update().where(endpoints.c.id == row.id).values(secret=unseal(row.secret))
        )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=400), type_=sa.String(length=100)
        )
