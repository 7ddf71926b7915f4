"""search is computed by the database: each listing's H3 cell and ECEF point, indexed;
on PostgreSQL a stemmed French/German/English text vector with a GIN index (ADR 0008)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

import math

import h3.api.basic_int as h3
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen copies of listings/spatial.py as of this revision: a later change of the stored
# resolution comes with a migration of its own.
STORED_RESOLUTION = 10
WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
_E2 = WGS84_F * (2 - WGS84_F)
_BATCH = 5000

_listings = sa.table(
    "listings",
    sa.column("id", sa.String),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("h3_cell", sa.BigInteger),
    sa.column("ecef_x", sa.Float),
    sa.column("ecef_y", sa.Float),
    sa.column("ecef_z", sa.Float),
)
_DOCUMENT = "coalesce(title, '') || ' ' || coalesce(description, '')"
_VECTOR = " || ".join(
    f"to_tsvector('{language}'::regconfig, {_DOCUMENT})"
    for language in ("english", "french", "german")
)
_PLACE_COLUMNS = ("h3_cell", "ecef_x", "ecef_y", "ecef_z")


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("h3_cell", sa.BigInteger(), nullable=True))
        for name in _PLACE_COLUMNS[1:]:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    _backfill()
    with op.batch_alter_table("listings", schema=None) as batch_op:
        for name in _PLACE_COLUMNS:
            batch_op.alter_column(name, nullable=False)
    op.create_index(
        "ix_listings_nearby",
        "listings",
        ["status", "h3_cell"],
        postgresql_include=["kind", "category", "ecef_x", "ecef_y", "ecef_z"],
    )
    op.create_index("ix_listings_recent", "listings", ["status", "updated_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE listings ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({_VECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_listings_search_vector ON listings USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_listings_search_vector")
        op.execute("ALTER TABLE listings DROP COLUMN search_vector")
    op.drop_index("ix_listings_recent", table_name="listings")
    op.drop_index("ix_listings_nearby", table_name="listings")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        for name in reversed(_PLACE_COLUMNS):
            batch_op.drop_column(name)


def _backfill() -> None:
    """Every existing row's cell and point, a batch of rows per statement."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(_listings.c.id, _listings.c.lat, _listings.c.lon)).all()
    update = (
        sa.update(_listings)
        .where(_listings.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(name) for name in _PLACE_COLUMNS})
    )
    for start in range(0, len(rows), _BATCH):
        batch = [_place(row_id, lat, lon) for row_id, lat, lon in rows[start : start + _BATCH]]
        connection.execute(update, batch)


def _place(row_id: str, lat: float, lon: float) -> dict[str, object]:
    phi, lam = math.radians(lat), math.radians(lon)
    n = WGS84_A_KM / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    return {
        "row_id": row_id,
        "h3_cell": int(h3.latlng_to_cell(lat, lon, STORED_RESOLUTION)),
        "ecef_x": n * math.cos(phi) * math.cos(lam),
        "ecef_y": n * math.cos(phi) * math.sin(lam),
        "ecef_z": n * (1 - _E2) * math.sin(phi),
    }
