"""The OpenADR 2.0b VEN against a real openleadr VTN on loopback, inside a real hub (its
lifespan starts the VEN from ``Settings.openadr_vens``), on SQLite and PostgreSQL.

One flow: the VEN starts before the VTN is up (registration errors counted, retried),
registers, offers its telemetry report; a LOAD_DISPATCH event becomes a demand response
plan with the event's targets and time window (read back from the database) and is opted
into; an event the VPP cannot serve is opted out of with the reason; the VTN receives the
VPP's measured power; malformed events are counted and opted out of, and the VEN still
serves the next one; an inactive VPP opts out; the lifespan stops the VEN.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openleadr import OpenADRServer, utils
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub.app import create_app
from hub.markets import OpenAdrVenConfig, start_ven
from hub.store import AuditEntry, DispatchInstruction, Vpp
from lingtan.broker import free_port
from tests.hub.conftest import AuthFor
from tests.hub.helpers import hub_context, make_battery, make_vpp, set_status
from tests.support import SAFETY_TIMEOUT

VEN_NAME = "lingtan-ven"
VEN_ID = "ven-lingtan-1"
PROGRAM = "oadr://lingtan.test/dr-program"


@dataclass
class Vtn:
    """An openleadr VTN on loopback that records what the VEN did."""

    port: int
    server: OpenADRServer
    registered: asyncio.Event = field(default_factory=asyncio.Event)
    opts: dict[str, str] = field(default_factory=dict)
    opt_seen: asyncio.Condition = field(default_factory=asyncio.Condition)
    offers: list[tuple[Any, ...]] = field(default_factory=list)
    readings: list[tuple[dt.datetime, float]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/OpenADR2/Simple/2.0b"

    async def opt_of(self, event_id: str) -> str:
        async with asyncio.timeout(SAFETY_TIMEOUT), self.opt_seen:
            await self.opt_seen.wait_for(lambda: event_id in self.opts)
        return self.opts[event_id]

    async def on_opt(self, ven_id: str, event_id: str, opt_type: str) -> None:
        async with self.opt_seen:
            self.opts[event_id] = opt_type
            self.opt_seen.notify_all()

    def dispatch(self, intervals: list[tuple[dt.datetime, int, float]], **kw: Any) -> str:
        """A LOAD_DISPATCH delta event (kW of load reduction per interval)."""
        event_id: str = self.server.add_event(
            ven_id=VEN_ID,
            signal_name=kw.pop("signal_name", "LOAD_DISPATCH"),
            signal_type=kw.pop("signal_type", "delta"),
            intervals=[
                {"dtstart": start, "duration": dt.timedelta(seconds=s), "signal_payload": v}
                for start, s, v in intervals
            ],
            market_context=kw.pop("market_context", PROGRAM),
            callback=self.on_opt,
            **kw,
        )
        return event_id


def make_vtn(port: int, **tls: Any) -> Vtn:
    server = OpenADRServer(
        vtn_id="TEST-VTN",
        http_host="127.0.0.1",
        http_port=port,
        requested_poll_freq=dt.timedelta(seconds=1),
        show_fingerprint=False,
        **{
            "ven_lookup": lambda ven_id: {
                "ven_id": VEN_ID,
                "ven_name": VEN_NAME,
                "registration_id": "r1",
            },
            **tls,
        },
    )
    vtn = Vtn(port=port, server=server)

    def on_create_party_registration(payload: dict[str, Any]) -> tuple[str, str] | bool:
        if payload.get("ven_name") != VEN_NAME:
            return False
        vtn.registered.set()
        return VEN_ID, "r1"

    def on_register_report(
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: dt.timedelta,
        max_sampling_interval: dt.timedelta,
    ) -> tuple[Callable[[list[tuple[dt.datetime, float]]], None], dt.timedelta]:
        vtn.offers.append((ven_id, resource_id, measurement, unit, scale, min_sampling_interval))
        return vtn.readings.extend, max(min_sampling_interval, dt.timedelta(seconds=1))

    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    return vtn


@pytest.fixture
async def vtn_port() -> int:
    return free_port()


@pytest.fixture
async def vtn(vtn_port: int) -> AsyncIterator[Vtn]:
    """Not started: the test starts it (after the VEN, to see the VEN retry)."""
    made = make_vtn(vtn_port)
    yield made
    if getattr(made.server, "app_runner", None) is not None:
        await made.server.stop()


async def until(check: Callable[[], Any], step: float = 0.05) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        while not check():  # noqa: ASYNC110 - the VEN runs in the app's own loop
            await asyncio.sleep(step)


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def dr_instructions(db: async_sessionmaker[AsyncSession]) -> list[DispatchInstruction]:
    async with db() as session:
        rows = await session.scalars(
            select(DispatchInstruction)
            .where(
                DispatchInstruction.source == "demand_response",
                DispatchInstruction.parent_id.is_(None),
            )
            .order_by(DispatchInstruction.start_time)
        )
        return list(rows)


async def decisions(db: async_sessionmaker[AsyncSession]) -> dict[str, dict[str, Any]]:
    async with db() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "openadr_event").order_by(AuditEntry.id)
        )
        return {str(r.after["event_id"]): r.after for r in rows if r.after}


def metric(app: Litestar, name: str, **labels: str) -> float:
    value = app.state.hub.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


async def test_ven_registers_dispatches_opts_reports_and_survives_bad_events(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    vtn: Vtn,
) -> None:
    h = auth("operator")
    battery = await make_battery(client, h, kw=100.0, kwh=400.0, edge="park-a", device="bess-1")
    await set_status(client, h, battery["id"], "ONLINE")
    vpp = await make_vpp(client, h, [battery["id"]])
    config = OpenAdrVenConfig(
        vtn_url=vtn.url,
        ven_name=VEN_NAME,
        vpp_id=vpp["id"],
        connector_id="dr-1",
        market_context=PROGRAM,
        retry_s=0.1,
        retry_max_s=0.2,
        poll_s=0.1,
        report_min_s=1.0,
    )
    hub_app = create_app(
        msgspec.structs.replace(settings, openadr_vens=(config,), load_presets=False)
    )
    async with AsyncTestClient(app=hub_app):
        hub = hub_app.state.hub
        # The VTN is not up yet: registration fails, is counted and retried.
        await until(lambda: metric(hub_app, "hub_openadr_errors_total", connector="dr-1",
                                   kind="registration") >= 2)  # fmt: skip
        assert metric(hub_app, "hub_openadr_registered", connector="dr-1") == 0
        await vtn.server.run()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await vtn.registered.wait()
        await until(lambda: metric(hub_app, "hub_openadr_registered", connector="dr-1") == 1)
        assert vtn.offers == [(VEN_ID, vpp["id"], "RealPower", "W", "k", dt.timedelta(seconds=1))]
        # Nothing measured yet: the samplings of the first seconds send no report (an
        # empty one would be an error at the VTN).
        await asyncio.sleep(1.5)
        # The battery charges at 10 kW: 110 kW of headroom up, 90 kW down.
        hub.cache.put("default/park-a", "bess-1", "p_w", -10_000.0, hub.clock.now_ms() + 600_000)
        hub.cache.put("default/park-a", "bess-1", "soc_pct", 50.0, hub.clock.now_ms() + 600_000)

        # An event the VPP can serve: 40 then 60 kW less load, in two 15-minute intervals.
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=5)
        served = vtn.dispatch([(start, 900, 40.0), (start + dt.timedelta(seconds=900), 900, 60.0)])
        assert await vtn.opt_of(served) == "optIn"
        rows = await dr_instructions(db)
        assert [(r.vpp_id, r.requested_power, r.target_power) for r in rows] == [
            (vpp["id"], 30.0, 30.0),  # -10 kW now + 40 kW of curtailment
            (vpp["id"], 50.0, 50.0),
        ]
        assert [(utc(r.start_time), utc(r.end_time)) for r in rows] == [
            (start, start + dt.timedelta(minutes=15)),
            (start + dt.timedelta(minutes=15), start + dt.timedelta(minutes=30)),
        ]
        assert {r.priority for r in rows} == {900}
        assert {r.created_by for r in rows} == {f"openadr:{served}:0"}
        by_api = await client.get(f"/api/v1/vpp/trading/execution-status/{rows[0].id}", headers=h)
        assert by_api.status_code == 200, by_api.text

        # One it cannot: 500 kW is more than the 110 kW available up.
        too_big = vtn.dispatch([(start, 900, 500.0)])
        assert await vtn.opt_of(too_big) == "optOut"
        assert len(await dr_instructions(db)) == 2
        refused = (await decisions(db))[too_big]
        assert refused["opt"] == "optOut"
        assert "500.000 kW" in refused["reason"]
        assert "110.000 kW available up" in refused["reason"]

        # The VTN receives the measured power as load: charging at 10 kW is +10 kW.
        await until(lambda: any(v == 10.0 for _, v in vtn.readings))
        assert {v for _, v in vtn.readings} == {10.0}
        assert metric(hub_app, "hub_openadr_errors_total", connector="dr-1",
                      kind="request:EiReport") == 0  # fmt: skip

        # Malformed events: counted, opted out of, nothing dispatched, the VEN goes on.
        wrong_type = vtn.dispatch([(start, 900, 2.0)], signal_type="level")
        assert await vtn.opt_of(wrong_type) == "optOut"
        overlap = [(start, 900, 5.0), (start + dt.timedelta(seconds=60), 900, 5.0)]
        overlapping = vtn.dispatch(overlap)
        assert await vtn.opt_of(overlapping) == "optOut"
        assert metric(hub_app, "hub_openadr_errors_total", connector="dr-1",
                      kind="malformed_event") == 2  # fmt: skip
        seen = await decisions(db)
        assert "signal_type" in seen[wrong_type]["reason"]
        assert "intervals overlap" in seen[overlapping]["reason"]
        assert len(await dr_instructions(db)) == 2

        # A VTN that answers a poll with an error (openleadr's VTN cannot render a SIMPLE
        # level 7): counted, and the VEN polls on; the VTN drops the event it cannot send.
        vtn.dispatch([(start, 900, 7.0)], signal_name="SIMPLE", signal_type="level")
        await until(lambda: metric(hub_app, "hub_openadr_errors_total", connector="dr-1",
                                   kind="request:OadrPoll") >= 1)  # fmt: skip
        vtn.server.events[VEN_ID].pop()

        # Another program's event is not ours.
        other = vtn.dispatch([(start, 900, 10.0)], market_context="oadr://elsewhere/program")
        assert await vtn.opt_of(other) == "optOut"

        # A SIMPLE level 1 event still works: a third of 100 kW.
        later = start + dt.timedelta(hours=2)
        level = vtn.dispatch([(later, 900, 1.0)], signal_name="SIMPLE", signal_type="level")
        assert await vtn.opt_of(level) == "optIn"
        rows = await dr_instructions(db)
        assert [(utc(r.start_time), r.target_power) for r in rows][-1] == (later, 23.333)

        # The VTN restarts: polls fail, the VEN registers again and is handed the open
        # events again; none is planned twice.
        planned = len(await dr_instructions(db))
        await vtn.server.stop()
        await until(lambda: metric(hub_app, "hub_openadr_registered", connector="dr-1") == 0)
        vtn.registered.clear()
        await vtn.server.run()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await vtn.registered.wait()
        await until(lambda: metric(hub_app, "hub_openadr_registered", connector="dr-1") == 1)
        assert len(await dr_instructions(db)) == planned
        assert metric(hub_app, "hub_openadr_errors_total", connector="dr-1",
                      kind="request:OadrPoll") >= 3  # fmt: skip

        # An inactive VPP opts out.
        async with db() as session:
            await session.execute(update(Vpp).where(Vpp.id == vpp["id"]).values(status="INACTIVE"))
            await session.commit()
        inactive = vtn.dispatch([(later, 900, 5.0)])
        assert await vtn.opt_of(inactive) == "optOut"
        assert "INACTIVE" in (await decisions(db))[inactive]["reason"]
        assert metric(hub_app, "hub_openadr_events_total", connector="dr-1", opt="optIn") == 2
    # The lifespan stopped the VEN.
    assert metric(hub_app, "hub_openadr_registered", connector="dr-1") == 0


def test_the_environment_configures_vens(monkeypatch: pytest.MonkeyPatch) -> None:
    """``vpp hub run`` reads its settings from the environment."""
    monkeypatch.setenv(
        "VPP_HUB_OPENADR_VENS",
        '[{"vtn_url": "http://127.0.0.1:1/OpenADR2/Simple/2.0b", "ven_name": "v",'
        ' "vpp_id": "p1", "poll_s": 5}]',
    )
    (ven,) = Settings.from_env().openadr_vens
    assert (ven.vpp_id, ven.poll_s, ven.priority) == ("p1", 5.0, 900)
    monkeypatch.setenv("VPP_HUB_OPENADR_VENS", '[{"ven_name": "v", "vpp_id": "p1"}]')
    with pytest.raises(msgspec.ValidationError, match="vtn_url"):
        Settings.from_env()


def test_a_connector_row_configures_a_ven() -> None:
    from hub.markets import ven_config_from_connector

    config = ven_config_from_connector(
        "c1", "https://vtn.example/OpenADR2/Simple/2.0b", {"ven_name": "v", "vpp_id": "p1"}
    )
    assert (config.vtn_url, config.connector_id, config.vpp_id) == (
        "https://vtn.example/OpenADR2/Simple/2.0b",
        "c1",
        "p1",
    )
    with pytest.raises(msgspec.ValidationError, match="password"):
        ven_config_from_connector("c1", "http://x", {"ven_name": "v", "vpp_id": "p", "password": 1})
    with pytest.raises(msgspec.ValidationError, match="vpp_id"):
        ven_config_from_connector("c1", "http://x", {"ven_name": "v"})


def make_certs(directory: Path) -> dict[str, str]:
    """A CA and, signed by it, certificates for the VTN (127.0.0.1) and the VEN (PEM
    files), and the fingerprints the other side checks signatures with."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def builder(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> Any:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder("test-ca", name("test-ca"), ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": directory / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    for who in ("vtn", "ven"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            builder(who, ca.subject, key)
            .add_extension(loopback, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        paths[who] = directory / f"{who}.pem"
        paths[f"{who}_key"] = directory / f"{who}.key"
        paths[who].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths[f"{who}_key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return {k: str(v) for k, v in paths.items()} | {
        f"{who}_fingerprint": utils.certificate_fingerprint(paths[who].read_bytes())
        for who in ("ven", "vtn")
    }


@pytest.fixture
async def hub_ctx(clean_db: str) -> AsyncIterator[HubContext]:
    """The hub's context without its app (what the trading service hands start_ven)."""
    async with hub_context(clean_db) as ctx:
        yield ctx


async def test_a_missing_certificate_is_counted_and_retried_not_raised(
    tmp_path: Path, hub_ctx: HubContext
) -> None:
    config = OpenAdrVenConfig(
        vtn_url="https://127.0.0.1:1/OpenADR2/Simple/2.0b",
        ven_name=VEN_NAME,
        vpp_id="p1",
        connector_id="dr-nocert",
        cert=str(tmp_path / "missing.pem"),
        key=str(tmp_path / "missing.key"),
        retry_s=0.05,
        retry_max_s=0.05,
    )
    ven = await start_ven(hub_ctx, config)
    labels = {"connector": "dr-nocert", "kind": "registration"}
    registry = hub_ctx.metrics.registry
    await until(lambda: (registry.get_sample_value("hub_openadr_errors_total", labels) or 0) >= 2)
    await ven.stop()
    assert not ven.registered.is_set()


async def test_ven_over_mutual_tls_with_signed_messages(
    tmp_path: Path, hub_ctx: HubContext, db: async_sessionmaker[AsyncSession]
) -> None:
    certs = make_certs(tmp_path)
    fingerprint = {who: certs[f"{who}_fingerprint"] for who in ("ven", "vtn")}
    port = free_port()
    vtn = make_vtn(
        port,
        cert=certs["vtn"],
        key=certs["vtn_key"],
        http_cert=certs["vtn"],
        http_key=certs["vtn_key"],
        http_ca_file=certs["ca"],
        ven_lookup=lambda ven_id: {
            "ven_id": VEN_ID,
            "ven_name": VEN_NAME,
            "registration_id": "r1",
            "fingerprint": fingerprint["ven"],
        },
    )
    await vtn.server.run()
    base = OpenAdrVenConfig(
        vtn_url=f"https://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
        ven_name=VEN_NAME,
        vpp_id="no-such-vpp",
        connector_id="dr-tls",
        cert=certs["ven"],
        key=certs["ven_key"],
        ca_file=certs["ca"],
        vtn_fingerprint=fingerprint["vtn"],
        retry_s=0.1,
        retry_max_s=0.2,
        poll_s=0.1,
    )
    # A VTN whose signatures do not match the fingerprint is never registered with.
    impostor = await start_ven(
        hub_ctx,
        msgspec.structs.replace(base, connector_id="dr-bad", vtn_fingerprint="00:" * 9 + "00"),
    )
    ven = await start_ven(hub_ctx, base)
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await ven.registered.wait()
        assert ven.ven_id == VEN_ID
        # An event over TLS, signed both ways; its VPP does not exist: opted out, audited.
        start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        event_id = vtn.dispatch([(start, 900, 10.0)])
        assert await vtn.opt_of(event_id) == "optOut"
        assert "does not exist" in (await decisions(db))[event_id]["reason"]
        registry = hub_ctx.metrics.registry
        labels = {"connector": "dr-bad", "kind": "registration"}
        await until(
            lambda: (registry.get_sample_value("hub_openadr_errors_total", labels) or 0) >= 2
        )
        assert not impostor.registered.is_set()
    finally:
        await impostor.stop()
        await ven.stop()
        await vtn.server.stop()


async def test_a_demand_response_market_connector_starts_a_ven_with_the_hub(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    vtn: Vtn,
) -> None:
    h = auth("operator")
    battery = await make_battery(client, h, kw=100.0, kwh=400.0, edge="park-a", device="bess-1")
    await set_status(client, h, battery["id"], "ONLINE")
    vpp = await make_vpp(client, h, [battery["id"]])
    h = auth("trader")
    for name, auth_config in (
        ("vtn-a", {"ven_name": VEN_NAME, "vpp_id": vpp["id"], "poll_s": 0.1, "retry_s": 0.1}),
        ("broken", {"ven_name": VEN_NAME}),  # no vpp_id: counted, skipped
    ):
        r = await client.post(
            "/api/v1/vpp/market-connectors",
            json={
                "name": name,
                "market_type": "DEMAND_RESPONSE",
                "api_endpoint": vtn.url,
                "auth_config": auth_config,
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        assert r.json()["auth_config"] == dict.fromkeys(auth_config, "***")
        if name == "broken":
            broken_id = r.json()["id"]
    await vtn.server.run()
    hub_app = create_app(msgspec.structs.replace(settings, load_presets=False))
    async with AsyncTestClient(app=hub_app):
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await vtn.registered.wait()
        assert metric(hub_app, "hub_openadr_errors_total", connector=broken_id, kind="config") == 1
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=5)
        event_id = vtn.dispatch([(start, 900, 25.0)])
        assert await vtn.opt_of(event_id) == "optIn"
        rows = await dr_instructions(db)
        assert [(utc(r.start_time), r.target_power) for r in rows] == [(start, 25.0)]
