"""A plan's writes on PostgreSQL in two statements (SQLite keeps one statement a table).

Every dispatch stores one parent and one child instruction per member, an execution row
per child and an audit entry, locks the edges it touches, and stages each changed edge's
schedule (its version, its digest, the outbox row) with the instructions that no longer
win anywhere marked ``superseded``. Each round trip to PostgreSQL costs the hub more CPU
(SQLAlchemy's execution, asyncpg, the socket write) than the rows it moves, so on
PostgreSQL:

- :data:`STORE_AND_LOCK`: the instructions, executions and audit entry (data-modifying
  ``WITH``; the instructions as one JSON parameter read by ``json_to_recordset``, where a
  multi-row ``VALUES`` makes SQLAlchemy bind every cell and ``unnest`` of array
  parameters has asyncpg encode every element in Python; the executions from the
  inserted member instructions) and, in its main query,
  the edges' rows locked in key order (``SELECT ... FOR UPDATE``) with their digest and
  version;
- :data:`FINISH`: the ``superseded`` marks, the edges' new versions and digests and their
  outbox rows.

The new version is the locked row's plus one: the row stays locked to the commit, so it is
the version ``UPDATE ... SET schedule_version = schedule_version + 1`` would have
allocated. The content of an edge's schedule is still read in a statement of its own,
after the lock (a statement's snapshot is taken when it starts, before a lock wait).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from sqlalchemy import TextClause, text

STORE_AND_LOCK: Final[TextClause] = text(
    """WITH instructions AS (
    INSERT INTO dispatch_instructions (id, parent_id, vpp_id, resource_id, edge_tenant,
        edge_id, device_id, target_power, requested_power, start_time, end_time,
        created_at, created_by, max_offline_s, source, priority, superseded)
    SELECT u.id, u.parent_id, :vpp_id, u.resource_id, u.edge_tenant, u.edge_id,
        u.device_id, u.target_power, u.requested_power, u.start_time, u.end_time,
        u.created_at, :created_by, :max_offline_s, :source, :priority, false
    FROM json_to_recordset(CAST(CAST(:rows AS TEXT) AS JSON))
        AS u(id VARCHAR, parent_id VARCHAR, resource_id VARCHAR, edge_tenant VARCHAR,
            edge_id VARCHAR, device_id VARCHAR, target_power FLOAT8,
            requested_power FLOAT8, start_time TIMESTAMPTZ, end_time TIMESTAMPTZ,
            created_at TIMESTAMPTZ)
    RETURNING id, parent_id
), executions AS (
    INSERT INTO dispatch_executions (instruction_id, status, reason, updated_at)
    SELECT instructions.id, 'pending', '', :updated_at
    FROM instructions WHERE instructions.parent_id IS NOT NULL
), audit AS (
    INSERT INTO audit_log (ts, actor, role, action, entity, entity_id, before, after)
    VALUES (:audit_ts, :audit_actor, :audit_role, :audit_action, :audit_entity,
        :audit_entity_id, NULL, CAST(CAST(:audit_after AS TEXT) AS JSON))
)
SELECT edges.tenant, edges.id, edges.schedule_digest, edges.schedule_version
FROM edges JOIN unnest(CAST(:lock_tenants AS VARCHAR[]), CAST(:lock_ids AS VARCHAR[]))
    AS k(tenant, id) ON edges.tenant = k.tenant AND edges.id = k.id
ORDER BY edges.tenant, edges.id
FOR UPDATE OF edges"""
)

FINISH: Final[TextClause] = text(
    """WITH marked AS (
    UPDATE dispatch_instructions SET superseded = true
    WHERE dispatch_instructions.id = ANY(CAST(:dropped AS VARCHAR[]))
), versions AS (
    UPDATE edges SET schedule_version = u.version, schedule_digest = u.digest
    FROM unnest(CAST(:tenants AS VARCHAR[]), CAST(:edge_ids AS VARCHAR[]),
        CAST(:versions AS INTEGER[]), CAST(:digests AS VARCHAR[]))
        AS u(tenant, id, version, digest)
    WHERE edges.tenant = u.tenant AND edges.id = u.id
)
INSERT INTO dispatch_outbox (edge_id, tenant, version, payload, created_at)
SELECT u.id, u.tenant, u.version, u.payload, :created_at
FROM unnest(CAST(:tenants AS VARCHAR[]), CAST(:edge_ids AS VARCHAR[]),
    CAST(:versions AS INTEGER[]), CAST(:payloads AS BYTEA[]))
    AS u(tenant, id, version, payload)"""
)

_ROWS = msgspec.json.Encoder()


def store_and_lock_params(
    plan_columns: dict[str, Any],
    instructions: Sequence[dict[str, Any]],
    audit: dict[str, Any],
    lock: Sequence[tuple[str, str]],
    updated_at: dt.datetime,
) -> dict[str, Any]:
    """The parameters of :data:`STORE_AND_LOCK`: what every instruction of the plan has in
    common (``plan_columns``: ``vpp_id``, ``created_by``, ``max_offline_s``, ``source``,
    ``priority``), ``instructions`` as the rows the Core insert takes (an execution row is
    made for each member instruction, those with a ``parent_id``), the audit row
    (:func:`hub.auth.audit_row`), the edges to ``lock``."""
    params = dict(plan_columns)
    # one JSON text (msgspec encodes it in C; json_to_recordset takes the columns it
    # names and ignores the others): asyncpg encodes an array element by element in
    # Python (an isinstance check each), a quarter of a plan's CPU with eleven arrays
    params["rows"] = _ROWS.encode(instructions).decode()
    params["updated_at"] = updated_at
    params |= {f"audit_{k}": v for k, v in audit.items()}
    params["lock_tenants"] = [t for t, _ in lock]
    params["lock_ids"] = [e for _, e in lock]
    return params
