"""``dispatch_instructions.superseded``: member instructions that win nowhere any more,
skipped when an edge's schedule is built (which reads, under the edge's lock on every
dispatch, the edge's unfinished instructions). Existing rows start as not superseded (the
next plan of their edge marks them).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.drop_column("superseded")
