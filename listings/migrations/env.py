"""Alembic environment of the listings service."""

from listings.tables import Base
from shared.migrations_env import run_migrations

run_migrations(Base.metadata)
