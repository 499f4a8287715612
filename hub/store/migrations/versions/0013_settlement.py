"""Settlement: day statements per VPP and market, their per-slot lines and the members'
allocations (money as integer cents).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = ("energy", "deviation", "penalty", "availability", "mileage", "dr", "total")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "settlement_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("market_type", sa.String(length=32), nullable=False),
        sa.Column("trading_date", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("gap_slots", sa.JSON(), nullable=False),
        *[sa.Column(f"{m}_cents", sa.BigInteger(), nullable=False) for m in _MONEY],
        sa.Column("cleared_kwh", sa.Float(), nullable=False),
        sa.Column("delivered_kwh", sa.Float(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("rounding", sa.String(length=200), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vpp_id", "market_type", "trading_date", name="uk_statement_day"),
    )
    op.create_index("idx_statements_date", "settlement_statements", ["trading_date"])
    op.create_table(
        "settlement_lines",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.Column("cleared_kwh", sa.Float(), nullable=False),
        sa.Column("clearing_price_yuan_mwh", sa.Float(), nullable=False),
        sa.Column("delivered_kwh", sa.Float(), nullable=True),
        sa.Column("deviation_kwh", sa.Float(), nullable=True),
        sa.Column("realtime_price_yuan_mwh", sa.Float(), nullable=True),
        *[sa.Column(f"{m}_cents", sa.BigInteger(), nullable=False) for m in _MONEY],
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["statement_id"], ["settlement_statements.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("statement_id", "slot", "product"),
    )
    op.create_table(
        "settlement_allocations",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("penalty_cents", sa.BigInteger(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("committed_kwh", sa.Float(), nullable=False),
        sa.Column("delivered_kwh", sa.Float(), nullable=False),
        sa.Column("capacity_kw", sa.Float(), nullable=False),
        sa.Column("availability", sa.Float(), nullable=False),
        sa.Column("missing_lines", sa.Integer(), nullable=False),
        sa.Column("standard_error_yuan", sa.Float(), nullable=True),
        sa.Column("half_width_yuan", sa.Float(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["statement_id"], ["settlement_statements.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("statement_id", "method", "resource_id"),
    )
    op.create_index("idx_allocations_resource", "settlement_allocations", ["resource_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("idx_allocations_resource", table_name="settlement_allocations")
    op.drop_table("settlement_allocations")
    op.drop_table("settlement_lines")
    op.drop_index("idx_statements_date", table_name="settlement_statements")
    op.drop_table("settlement_statements")
