"""One dispatch seam: schedules leave through a transactional outbox; instructions say
where their plan came from (source) and how much it counts (priority); an edge remembers
its last schedule's digest so an unchanged one is not published again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "dispatch_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "idx_dispatch_outbox_pending", "dispatch_outbox", ["published_at", "edge_id"], unique=False
    )
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=32), server_default="manual", nullable=False)
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("edges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("edges", schema=None) as batch_op:
        batch_op.drop_column("schedule_digest")
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.drop_column("priority")
        batch_op.drop_column("source")
    op.drop_index("idx_dispatch_outbox_pending", table_name="dispatch_outbox")
    op.drop_table("dispatch_outbox")
