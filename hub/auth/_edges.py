"""``/api/v1/edges``: edge registration, its MQTT credentials, agent config and ACL lines."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from sqlalchemy import select

from hub._deps import Caller, Ctx, Session
from hub._settings import public_mqtt_url
from hub.store import Edge

from ._schemas import EdgeCreate, EdgeCredentials, EdgeOut
from ._security import WRITERS, requires
from ._service import acl_lines, agent_config_toml, audit, create_edge


def edge_out(e: Edge) -> EdgeOut:
    return EdgeOut(
        id=e.id,
        tenant=e.tenant,
        name=e.name,
        mqtt_username=e.mqtt_username,
        online=e.online,
        last_seen=e.last_seen,
    )


class EdgeController(Controller):
    path = "/api/v1/edges"
    tags = ("edges",)

    @get("/", opt={"cached": True})
    async def list_edges(self, session: Session) -> list[EdgeOut]:
        edges = await session.scalars(select(Edge).order_by(Edge.tenant, Edge.id))
        return [edge_out(e) for e in edges]

    @post("/", guards=[requires(*WRITERS)])
    async def add_edge(
        self, session: Session, ctx: Ctx, principal: Caller, data: JSONBody[EdgeCreate]
    ) -> EdgeCredentials:
        """Register an edge: its MQTT password (shown once), agent config and ACL lines."""
        tenant = data.tenant or ctx.settings.tenant
        edge, password = await create_edge(session, tenant, data.id, data.name)
        await session.flush()
        audit(
            session,
            principal,
            "create",
            "edge",
            edge.id,
            None,
            {"id": edge.id, "tenant": edge.tenant, "mqtt_username": edge.mqtt_username},
        )
        await session.commit()
        url = public_mqtt_url(ctx.settings.mqtt_url or "mqtt://127.0.0.1:1883")
        return EdgeCredentials(
            edge=edge_out(edge),
            mqtt_password=password,
            agent_config_toml=agent_config_toml(edge, password, url),
            acl=acl_lines(edge),
        )
