"""Execution reports say what the device did: the value it accepted, the energy it
delivered (measured at the edge) and when the instruction came into force.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("dispatch_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("energy_wh", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("dispatch_status_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("p_applied_w", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("energy_wh", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("started_ts_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("dispatch_status_events", schema=None) as batch_op:
        batch_op.drop_column("started_ts_ms")
        batch_op.drop_column("energy_wh")
        batch_op.drop_column("p_applied_w")
    with op.batch_alter_table("dispatch_executions", schema=None) as batch_op:
        batch_op.drop_column("started_at")
        batch_op.drop_column("energy_wh")
