"""``vpp hub``: run and administer the hub. Heavy imports happen inside the commands."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from .auth import Principal

app = typer.Typer(
    help="Run and administer the hub (API, ingest, dispatch, users).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DEFAULT_DB = "sqlite+aiosqlite:///var/hub.db"
DbOption = Annotated[
    str, typer.Option("--db", envvar="VPP_HUB_DB", help="Database URL (SQLite or PostgreSQL).")
]
MqttOption = Annotated[str, typer.Option("--mqtt", envvar="VPP_HUB_MQTT", help="MQTT broker URL.")]


def _cli_principal() -> Principal:
    """Who wrote through the CLI, for the audit log: ``cli:<OS user>`` acting as admin."""
    import getpass

    from .auth import Principal

    return Principal(user_id="cli", username=f"cli:{getpass.getuser()}", role="admin")


@app.command("run")
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="HTTP port.")] = 8080,
    db: DbOption = DEFAULT_DB,
    mqtt: MqttOption = "mqtt://127.0.0.1:1883",
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "INFO",
) -> None:
    """Serve the API and run ingest/dispatch (the API serves while the broker is away)."""
    import uvicorn

    from ._logging import configure
    from ._settings import Settings
    from .app import create_app

    configure(log_level.upper())
    settings = Settings.from_env(db_url=db, mqtt_url=mqtt, http_port=port)
    from ._serve import server_options

    uvicorn.run(create_app(settings), host=host, port=port, **server_options())


@app.command("migrate")
def migrate_cmd(db: DbOption = DEFAULT_DB) -> None:
    """Create or upgrade the database schema."""
    from .store import create_engine, migrate

    async def go() -> None:
        engine = create_engine(db)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    typer.echo(f"database at {db} is up to date")


user_app = typer.Typer(help="Users of the console and API.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin, trader, operator or viewer.")] = "viewer",
    db: DbOption = DEFAULT_DB,
    replace: Annotated[bool, typer.Option(help="Reset an existing user.")] = False,
) -> None:
    """Add a user; the password is read as one line from stdin when it is not a terminal."""
    if role not in {"admin", "trader", "operator", "viewer"}:
        typer.echo("error: --role must be admin, trader, operator or viewer", err=True)
        raise typer.Exit(2)
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        typer.echo("error: the password needs at least 8 characters", err=True)
        raise typer.Exit(2)

    from .errors import ConflictError
    from .store import create_engine, migrate, sessionmaker

    async def go() -> None:
        from .auth import audit, create_user
        from .store import row_dict

        engine = create_engine(db)
        try:
            await migrate(engine)
            async with sessionmaker(engine)() as session:
                user = await create_user(session, name, password, role, replace=replace)  # type: ignore[arg-type]
                await session.flush()
                after = row_dict(user)
                after.pop("password_hash", None)
                action = "replace" if replace else "create"
                audit(session, _cli_principal(), action, "user", user.id, None, after)
                await session.commit()
        finally:
            await engine.dispose()

    try:
        asyncio.run(go())
    except ConflictError as exc:
        typer.echo(f"error: {exc} (use --replace to reset it)", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"user {name} ({role}) saved")


edge_app = typer.Typer(help="Edges (sites) and their MQTT credentials.", no_args_is_help=True)
app.add_typer(edge_app, name="edge")


@edge_app.command("add")
def edge_add(
    edge_id: Annotated[str, typer.Argument(help="Edge id (one MQTT topic level).")],
    tenant: Annotated[str, typer.Option(envvar="VPP_HUB_TENANT", help="Tenant id.")] = "default",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    db: DbOption = DEFAULT_DB,
    mqtt: MqttOption = "mqtt://127.0.0.1:1883",
) -> None:
    """Register an edge; print its MQTT password, agent config TOML and mosquitto ACL."""
    from protocol.topics import TopicError

    from .auth import acl_lines, agent_config_toml, audit, create_edge
    from .errors import ConflictError
    from .store import create_engine, migrate, sessionmaker

    async def go() -> str:
        engine = create_engine(db)
        try:
            await migrate(engine)
            async with sessionmaker(engine)() as session:
                edge, password = await create_edge(session, tenant, edge_id, name)
                await session.flush()
                after = {"id": edge.id, "tenant": edge.tenant, "mqtt_username": edge.mqtt_username}
                audit(session, _cli_principal(), "create", "edge", edge.id, None, after)
                await session.commit()
                return (
                    f"# MQTT password for {edge.mqtt_username} (shown once): {password}\n"
                    f"# mosquitto_passwd -b passwords {edge.mqtt_username} '{password}'\n\n"
                    "# ---- agent config (vpp agent run --config ...) ----\n"
                    f"{agent_config_toml(edge, password, mqtt)}\n"
                    "# ---- mosquitto ACL ----\n"
                    f"{acl_lines(edge)}"
                )
        finally:
            await engine.dispose()

    try:
        typer.echo(asyncio.run(go()))
    except (ConflictError, TopicError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


__all__ = ["app"]
