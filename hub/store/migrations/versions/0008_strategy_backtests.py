"""Backtest tasks of the strategies API (seed 4.2.1): request, progress, results and the
worker's lease, in the database so a task survives a hub restart.

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "strategy_backtests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("strategy_id", sa.String(length=36), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *_STATUSES,
                name="backtest_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("market_data_source", sa.String(length=500), nullable=False),
        sa.Column("strategy_type", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("config_digest", sa.String(length=64), nullable=False),
        sa.Column("fleet", sa.JSON(), nullable=False),
        sa.Column("progress_pct", sa.Float(), server_default="0", nullable=False),
        sa.Column("slots_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("slots_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("slot_reached_ms", sa.BigInteger(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("heartbeat_ms", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["strategy_id"], ["trading_strategies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "idx_backtests_strategy", "strategy_backtests", ["strategy_id", "status"], unique=False
    )
    op.create_index(
        "idx_backtests_status", "strategy_backtests", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("idx_backtests_status", table_name="strategy_backtests")
    op.drop_index("idx_backtests_strategy", table_name="strategy_backtests")
    op.drop_table("strategy_backtests")
