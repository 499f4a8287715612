"""A plan's writes on PostgreSQL in two statements (SQLite keeps one statement a table).

Every dispatch stores one parent and one child instruction per member, an execution row
per child and an audit entry, locks the edges it touches, and stages each changed edge's
schedule (its version, its digest, the outbox row) with the instructions that no longer
win anywhere marked ``superseded``. Each round trip to PostgreSQL costs the hub more CPU
(SQLAlchemy's execution, asyncpg, the socket write) than the rows it moves, so on
PostgreSQL:

- :data:`STORE_AND_LOCK`: the instructions, executions and audit entry (data-modifying
  ``WITH``, rows as ``unnest`` of array parameters: asyncpg encodes a list as one value,
  where a multi-row ``VALUES`` makes SQLAlchemy bind every cell) and, in its main query,
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

from sqlalchemy import TextClause, text

STORE_AND_LOCK: Final[TextClause] = text(
    """WITH instructions AS (
    INSERT INTO dispatch_instructions (id, parent_id, vpp_id, resource_id, edge_tenant,
        edge_id, device_id, target_power, requested_power, start_time, end_time,
        created_at, created_by, max_offline_s, source, priority, superseded)
    SELECT u.id, u.parent_id, :vpp_id, u.resource_id, u.edge_tenant, u.edge_id,
        u.device_id, u.target_power, u.requested_power, u.start_time, u.end_time,
        u.created_at, :created_by, :max_offline_s, :source, :priority, false
    FROM unnest(CAST(:ids AS VARCHAR[]), CAST(:parent_ids AS VARCHAR[]),
        CAST(:resource_ids AS VARCHAR[]), CAST(:edge_tenants AS VARCHAR[]),
        CAST(:edge_ids AS VARCHAR[]), CAST(:device_ids AS VARCHAR[]),
        CAST(:target_powers AS FLOAT8[]), CAST(:requested_powers AS FLOAT8[]),
        CAST(:start_times AS TIMESTAMPTZ[]), CAST(:end_times AS TIMESTAMPTZ[]),
        CAST(:created_ats AS TIMESTAMPTZ[]))
        AS u(id, parent_id, resource_id, edge_tenant, edge_id, device_id, target_power,
            requested_power, start_time, end_time, created_at)
), executions AS (
    INSERT INTO dispatch_executions (instruction_id, status, reason, updated_at)
    SELECT u.id, 'pending', '', :updated_at
    FROM unnest(CAST(:execution_ids AS VARCHAR[])) AS u(id)
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

_INSTRUCTION_ARRAYS: Final = (
    ("ids", "id"),
    ("parent_ids", "parent_id"),
    ("resource_ids", "resource_id"),
    ("edge_tenants", "edge_tenant"),
    ("edge_ids", "edge_id"),
    ("device_ids", "device_id"),
    ("target_powers", "target_power"),
    ("requested_powers", "requested_power"),
    ("start_times", "start_time"),
    ("end_times", "end_time"),
    ("created_ats", "created_at"),
)


def store_and_lock_params(
    plan_columns: dict[str, Any],
    instructions: Sequence[dict[str, Any]],
    executions: Sequence[str],
    audit: dict[str, Any],
    lock: Sequence[tuple[str, str]],
    updated_at: dt.datetime,
) -> dict[str, Any]:
    """The parameters of :data:`STORE_AND_LOCK`: what every instruction of the plan has in
    common (``plan_columns``: ``vpp_id``, ``created_by``, ``max_offline_s``, ``source``,
    ``priority``), ``instructions`` as the rows the Core insert takes, the instruction ids
    of the ``executions``, the audit row (:func:`hub.auth.audit_row`), the edges to
    ``lock``."""
    params = dict(plan_columns)
    for array, column in _INSTRUCTION_ARRAYS:
        params[array] = [i[column] for i in instructions]
    params["execution_ids"] = list(executions)
    params["updated_at"] = updated_at
    params |= {f"audit_{k}": v for k, v in audit.items()}
    params["lock_tenants"] = [t for t, _ in lock]
    params["lock_ids"] = [e for _, e in lock]
    return params
