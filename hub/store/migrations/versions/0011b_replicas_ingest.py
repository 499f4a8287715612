"""Several hub replicas: the seqs stored above an ingest cursor (contiguity computed from
the database by any replica) and telemetry rollups (1-minute and 15-minute buckets the
retention job keeps after raw rows expire).

Revision ID: 0011b
Revises: 0013
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011b"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ingest_ahead",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("edge_id", "sid", "seq"),
    )
    op.create_table(
        "telemetry_rollups",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("width_s", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("edge_id", "device_id", "name", "width_s", "bucket_ms"),
    )
    op.create_index("idx_telemetry_ts", "telemetry", ["ts_ms"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("idx_telemetry_ts", table_name="telemetry")
    op.drop_table("telemetry_rollups")
    op.drop_table("ingest_ahead")
