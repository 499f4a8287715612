"""AI models: the registry (seed 4.2.2; files stored by content hash, safe formats only),
training tasks of the built-in forecasters, champion/challenger experiments and the
decisions each arm made.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ai_models",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("model_type", sa.String(length=50), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "onnx",
                "lightgbm",
                "skops",
                "seasonal_naive",
                name="ai_model_format",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("model_file_path", sa.String(length=500), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("output_schema", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "ACTIVE",
                "RETIRED",
                name="ai_model_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="DRAFT",
            nullable=False,
        ),
        sa.Column("calibration", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("baseline_id", sa.String(length=36), nullable=True),
        sa.Column("training_task_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uk_ai_model_version"),
    )
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.create_index("idx_ai_models_type_status", ["model_type", "status"], unique=False)

    op.create_table(
        "ai_training_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "DONE",
                "FAILED",
                name="ai_task_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        sa.Column("message", sa.String(length=500), server_default="", nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("baseline_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ai_experiments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slot", sa.String(length=100), nullable=False),
        sa.Column("champion_id", sa.String(length=36), nullable=False),
        sa.Column("challenger_id", sa.String(length=36), nullable=False),
        sa.Column(
            "split_by",
            sa.Enum(
                "day", "vpp", name="ai_split", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("challenger_share", sa.Float(), nullable=False),
        sa.Column("auto_promote", sa.Boolean(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("min_decisions", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "RUNNING",
                "CONCLUDED",
                name="ai_experiment_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("winner_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenger_id"],
            ["ai_models.id"],
        ),
        sa.ForeignKeyConstraint(
            ["champion_id"],
            ["ai_models.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ai_experiments", schema=None) as batch_op:
        batch_op.create_index("idx_ai_experiments_slot", ["slot", "state"], unique=False)

    op.create_table(
        "ai_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column(
            "arm",
            sa.Enum(
                "champion",
                "challenger",
                name="ai_arm",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("champion_forecast", sa.JSON(), nullable=False),
        sa.Column("challenger_forecast", sa.JSON(), nullable=False),
        sa.Column("actual", sa.JSON(), nullable=True),
        sa.Column("champion_loss", sa.Float(), nullable=True),
        sa.Column("challenger_loss", sa.Float(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("capture_ratio", sa.Float(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["ai_experiments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ai_decisions", schema=None) as batch_op:
        batch_op.create_index("idx_ai_decisions_experiment", ["experiment_id", "arm"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ai_decisions", schema=None) as batch_op:
        batch_op.drop_index("idx_ai_decisions_experiment")

    op.drop_table("ai_decisions")
    with op.batch_alter_table("ai_experiments", schema=None) as batch_op:
        batch_op.drop_index("idx_ai_experiments_slot")

    op.drop_table("ai_experiments")
    op.drop_table("ai_training_tasks")
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.drop_index("idx_ai_models_type_status")

    op.drop_table("ai_models")
