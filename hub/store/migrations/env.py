"""Alembic environment: migrations run on a connection handed over by ``hub.store.migrate``.

Run ``vpp hub migrate`` rather than the ``alembic`` command.
"""

from __future__ import annotations

from alembic import context

from hub.store._models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` without our wrapper
    raise RuntimeError("run migrations with `vpp hub migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
