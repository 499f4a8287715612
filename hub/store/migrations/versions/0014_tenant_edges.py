"""Tenant-qualified edges: ``park-a`` of two tenants are two edges.

The edge-keyed tables get ``tenant`` first in their primary keys; resource instances and
dispatch instructions get ``edge_tenant`` beside ``edge_id``. Existing rows are copied
under their edge's tenant (``edges.tenant``); rows of an edge that has no ``edges`` row
(telemetry of an edge that never sent ``state`` or ``birth``) go to the hub's tenant,
``VPP_HUB_TENANT`` when the migration runs, else ``default``.

PostgreSQL alters the tables in place; SQLite copies each one (batch mode). On
PostgreSQL a column with a constant default is added without rewriting the table and
only rows whose edge is in another tenant are updated, but the primary keys are rebuilt:
on a large ``telemetry`` table, run it in a maintenance window.

Downgrading fails (primary key violation) once two tenants share an edge id.

Revision ID: 0014
Revises: 0011b
Create Date: 2026-12-02

"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0011b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (primary key after the tenant, indexes to rebuild with the tenant first)
_KEYED: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "edges": (("id",), {}),
    "devices": (("edge_id", "device_id"), {}),
    "telemetry": (
        ("edge_id", "sid", "seq", "idx"),
        {"idx_telemetry_series": ("edge_id", "device_id", "name", "ts_ms")},
    ),
    "telemetry_rollups": (("edge_id", "device_id", "name", "width_s", "bucket_ms"), {}),
    "ingest_cursors": (("edge_id", "sid"), {}),
    "ingest_ahead": (("edge_id", "sid", "seq"), {}),
    "ingest_gaps": (("edge_id", "sid", "first_seq"), {}),
    "dispatch_status_events": (("edge_id", "sid", "seq"), {}),
}
# table -> (index or unique constraint to rebuild with edge_tenant first, its columns)
_POINTING: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "vpp_resource_instances": ("uk_instance_edge_device", ("edge_id", "device_id"), True),
    "dispatch_instructions": ("idx_dispatch_edge_end", ("edge_id", "end_time"), False),
}


def _fallback() -> str:
    return os.environ.get("VPP_HUB_TENANT") or "default"


def _rekey(table: str, pk: tuple[str, ...], *, sqlite: bool) -> None:
    """Make ``pk`` the table's primary key (its columns must exist)."""
    if not sqlite:
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, list(pk))
        return
    # SQLite cannot alter a primary key: copy the table with the new one (reflected, so
    # every other column, constraint and index comes along as it is).
    old = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind())
    new = old.to_metadata(sa.MetaData())
    for column in new.columns:
        column.primary_key = column.name in pk
    new.append_constraint(sa.PrimaryKeyConstraint(*pk))
    new.c.tenant.server_default = None
    with op.batch_alter_table(table, recreate="always", copy_from=new):
        pass


def upgrade() -> None:
    """Upgrade schema."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    fallback = _fallback()
    for table, (pk, indexes) in _KEYED.items():
        if table != "edges":  # edges had their tenant already
            op.add_column(
                table,
                sa.Column("tenant", sa.String(length=64), nullable=False, server_default=fallback),
            )
            _copy_tenant(table, "tenant", sqlite=sqlite)
        for name in indexes:
            op.drop_index(name, table_name=table)
        _rekey(table, ("tenant", *pk), sqlite=sqlite)
        if not sqlite and table != "edges":
            op.alter_column(table, "tenant", server_default=None)
        for name, columns in indexes.items():
            op.create_index(name, table, ["tenant", *columns], unique=False)
    for table, (name, columns, unique) in _POINTING.items():
        op.add_column(table, sa.Column("edge_tenant", sa.String(length=64), nullable=True))
        _copy_tenant(table, "edge_tenant", sqlite=sqlite)
        op.execute(
            sa.text(
                f"UPDATE {table} SET edge_tenant = :tenant"  # noqa: S608 - names are ours
                " WHERE edge_id IS NOT NULL AND edge_tenant IS NULL"
            ).bindparams(tenant=fallback)
        )
        with op.batch_alter_table(table) as batch:
            if unique:
                batch.drop_constraint(name, type_="unique")
                batch.create_unique_constraint(name, ["edge_tenant", *columns])
            else:
                batch.drop_index(name)
                batch.create_index(name, ["edge_tenant", *columns], unique=False)


def _copy_tenant(table: str, column: str, *, sqlite: bool) -> None:
    """Set ``column`` of ``table``'s rows to the tenant of their edge, where it has a row."""
    if sqlite:
        op.execute(
            f"UPDATE {table} SET {column} = (SELECT edges.tenant FROM edges"  # noqa: S608
            f" WHERE edges.id = {table}.edge_id)"
            f" WHERE EXISTS (SELECT 1 FROM edges WHERE edges.id = {table}.edge_id)"
        )
    else:
        op.execute(
            f"UPDATE {table} AS t SET {column} = edges.tenant FROM edges"  # noqa: S608
            f" WHERE edges.id = t.edge_id AND t.{column} IS DISTINCT FROM edges.tenant"
        )


def downgrade() -> None:
    """Downgrade schema."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (name, columns, unique) in _POINTING.items():
        with op.batch_alter_table(table) as batch:
            if unique:
                batch.drop_constraint(name, type_="unique")
                batch.create_unique_constraint(name, list(columns))
            else:
                batch.drop_index(name)
                batch.create_index(name, list(columns), unique=False)
            batch.drop_column("edge_tenant")
    for table, (pk, indexes) in _KEYED.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
        _rekey(table, pk, sqlite=sqlite)
        if table != "edges":
            with op.batch_alter_table(table) as batch:
                batch.drop_column("tenant")
        for name, columns in indexes.items():
            op.create_index(name, table, list(columns), unique=False)
