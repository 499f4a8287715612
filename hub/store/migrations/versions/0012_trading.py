"""Markets and trading: market connectors (auth encrypted, rules validated), market data
per slot, bid submissions with an idempotency key per VPP/market/day/slot set, risk limits
and a circuit breaker per VPP with its events; trading_records link to their submission.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "market_connectors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("market_type", sa.String(length=32), nullable=False),
        sa.Column("api_endpoint", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            _enum("connector_status", "ACTIVE", "INACTIVE"),
            server_default="ACTIVE",
            nullable=False,
        ),
        sa.Column("auth_config", sa.LargeBinary(), nullable=True),
        sa.Column("auth_keys", sa.JSON(), nullable=True),
        sa.Column("trading_rules", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        "idx_connectors_market_type", "market_connectors", ["market_type", "status"], unique=False
    )
    op.create_table(
        "breaker_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_breaker_events_vpp", "breaker_events", ["vpp_id", "ts"], unique=False)
    op.create_table(
        "breaker_states",
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column(
            "state",
            _enum("breaker_state", "CLOSED", "TRIPPED"),
            server_default="CLOSED",
            nullable=False,
        ),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("tripped_at", _TS, nullable=True),
        sa.Column("reset_at", _TS, nullable=True),
        sa.Column("reset_by", sa.String(length=100), nullable=True),
        sa.Column("deviation_run", sa.Integer(), server_default="0", nullable=False),
        sa.Column("recent_calls", sa.JSON(), nullable=False),
        sa.Column("day_pnl_yuan", sa.Float(), server_default="0", nullable=False),
        sa.Column("day_cleared_kwh", sa.Float(), server_default="0", nullable=False),
        sa.Column("day_deviation_kwh", sa.Float(), server_default="0", nullable=False),
        sa.Column("pnl_date", sa.Date(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vpp_id"),
    )
    op.create_table(
        "market_data_points",
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("market_type", sa.String(length=32), nullable=False),
        sa.Column("slot_start", _TS, nullable=False),
        sa.Column("price_yuan_mwh", sa.Float(), nullable=False),
        sa.Column("volume_mwh", sa.Float(), nullable=False),
        sa.Column("realtime_price_yuan_mwh", sa.Float(), nullable=True),
        sa.Column("market_status", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["connector_id"], ["market_connectors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connector_id", "market_type", "slot_start"),
    )
    op.create_table(
        "risk_limits",
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vpp_id"),
    )
    op.create_table(
        "bid_submissions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("strategy_id", sa.String(length=36), nullable=True),
        sa.Column("market_type", sa.String(length=32), nullable=False),
        sa.Column("trading_date", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            _enum("submission_status", "PENDING", "SUBMITTED", "CLEARED", "FAILED", "CANCELLED"),
            nullable=False,
        ),
        sa.Column("bids", sa.JSON(), nullable=False),
        sa.Column("storage", sa.JSON(), nullable=True),
        sa.Column("market_submission_id", sa.String(length=100), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("award_instructions", sa.JSON(), nullable=True),
        sa.Column("executed_slots", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("submitted_at", _TS, nullable=True),
        sa.Column("cleared_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["connector_id"], ["market_connectors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["strategy_id"], ["trading_strategies.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("idx_submissions_status", "bid_submissions", ["status"], unique=False)
    op.create_index(
        "idx_submissions_vpp_date",
        "bid_submissions",
        ["vpp_id", "connector_id", "trading_date"],
        unique=False,
    )
    with op.batch_alter_table("trading_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_trading_records_submission_id", ["submission_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_trading_records_submission",
            "bid_submissions",
            ["submission_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("trading_records", schema=None) as batch_op:
        batch_op.drop_constraint("fk_trading_records_submission", type_="foreignkey")
        batch_op.drop_index("ix_trading_records_submission_id")
        batch_op.drop_column("submission_id")
    op.drop_index("idx_submissions_vpp_date", table_name="bid_submissions")
    op.drop_index("idx_submissions_status", table_name="bid_submissions")
    op.drop_table("bid_submissions")
    op.drop_table("risk_limits")
    op.drop_table("market_data_points")
    op.drop_table("breaker_states")
    op.drop_index("idx_breaker_events_vpp", table_name="breaker_events")
    op.drop_table("breaker_events")
    op.drop_index("idx_connectors_market_type", table_name="market_connectors")
    op.drop_table("market_connectors")
