"""Per-instruction ``max_offline_s`` (how long an edge may follow it without the hub).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_offline_s", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.drop_column("max_offline_s")
