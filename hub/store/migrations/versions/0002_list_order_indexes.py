"""Indexes for the list pages' order (newest first, then id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("idx_instances_created", "vpp_resource_instances", ["created_at", "id"])
    op.create_index("idx_vpps_created", "vpps", ["created_at", "id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("idx_vpps_created", table_name="vpps")
    op.drop_index("idx_instances_created", table_name="vpp_resource_instances")
