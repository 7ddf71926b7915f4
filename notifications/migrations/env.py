"""Alembic environment of the notifications service."""

from notifications.tables import Base
from shared.migrations_env import run_migrations

run_migrations(Base.metadata)
