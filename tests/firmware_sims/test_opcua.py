"""The chiller plant through asyncua's client: values, writes, faults, users, security."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography.x509.oid import ExtendedKeyUsageOID

from firmware_sims import HVACSpec, MeterSpec, SimControlError, SimSite, SiteSpec
from protocol.clock import ManualClock
from tests.support import SAFETY_TIMEOUT


def _node(client: Any, name: str) -> Any:
    return client.get_node(f"ns=2;s=chiller-1.{name}")


async def test_values_follow_the_model_and_faults_show(
    hvac_site: SimSite, manual_clock: ManualClock
) -> None:
    chiller = hvac_site.chiller("chiller-1")
    url = hvac_site.endpoint("chiller-1").endpoint
    assert url is not None
    client: Any = Client(url=url, timeout=5)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        async with client:
            assert await client.get_namespace_index("urn:lingtan:sims") == 2
            await _node(client, "PowerLimit").write_value(
                ua.Variant(50_000.0, ua.VariantType.Double)
            )
            assert chiller.power_limit_w == 50_000
            await manual_clock.run_for(120, step=1.0)  # the physics loop publishes
            assert await _node(client, "Power").read_value() == pytest.approx(chiller.p_w)
            assert chiller.p_w <= 50_000
            # frozen: the published values stop moving
            hvac_site.set_fault("chiller-1", "frozen")
            room = await _node(client, "RoomTemp").read_value()
            await manual_clock.run_for(600, step=5.0)
            assert await _node(client, "RoomTemp").read_value() == room
            assert chiller.room_c != room
            hvac_site.clear_fault("chiller-1", "frozen")
            # alarm: the plant stops and says so
            hvac_site.set_fault("chiller-1", "alarm")
            await manual_clock.run_for(2, step=1.0)
            assert await _node(client, "Alarm").read_value() is True
            assert await _node(client, "Power").read_value() == 0.0
            hvac_site.clear_fault("chiller-1")
            # refuse_writes: BadUserAccessDenied, nothing changes
            hvac_site.set_fault("chiller-1", "refuse_writes")
            with pytest.raises(UaStatusCodeError, match="BadUserAccessDenied"):
                await _node(client, "Setpoint").write_value(ua.Variant(20.0, ua.VariantType.Double))
            assert chiller.setpoint_c == 24.0
            hvac_site.clear_fault("chiller-1")
            # a read-only node stays read-only
            with pytest.raises(UaStatusCodeError, match=r"BadUserAccessDenied|BadNotWritable"):
                await _node(client, "RoomTemp").write_value(ua.Variant(1.0, ua.VariantType.Double))
            # garbage: values of the right type that make no sense
            hvac_site.set_fault("chiller-1", "garbage")
            await manual_clock.run_for(3, step=1.0)
            temps = {await _node(client, "RoomTemp").read_value() for _ in range(3)}
            assert chiller.room_c not in temps
            assert all(isinstance(t, float) for t in temps)
            hvac_site.clear_fault("chiller-1")
            await manual_clock.run_for(2, step=1.0)
            await _node(client, "RevertSeconds").write_value(ua.Variant(60, ua.VariantType.UInt32))
            await _node(client, "Setpoint").write_value(ua.Variant(21.0, ua.VariantType.Double))
            await manual_clock.run_for(70, step=1.0)
            assert await _node(client, "Reverted").read_value() is True
            assert await _node(client, "Setpoint").read_value() == 24.0


async def test_slow_and_exception_faults_and_dropped_subscriptions(
    hvac_site: SimSite, manual_clock: ManualClock
) -> None:
    url = hvac_site.endpoint("chiller-1").endpoint
    assert url is not None
    client: Any = Client(url=url, timeout=5)
    async with asyncio.timeout(SAFETY_TIMEOUT), client:
        power = _node(client, "PowerLimit")
        # slow: a read answered later than the client waits for it
        hvac_site.set_fault("chiller-1", "slow", delay_s=1.0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await _node(client, "RoomTemp").read_value()
        hvac_site.clear_fault("chiller-1")
        assert isinstance(await _node(client, "RoomTemp").read_value(), float)
        # exception: every variable and every write says BadDeviceFailure
        hvac_site.set_fault("chiller-1", "exception")
        with pytest.raises(UaStatusCodeError, match="BadDeviceFailure"):
            await _node(client, "RoomTemp").read_value()
        with pytest.raises(UaStatusCodeError, match="BadDeviceFailure"):
            await power.write_value(ua.Variant(10_000.0, ua.VariantType.Double))
        await manual_clock.run_for(2, step=1.0)  # published with bad quality too
        hvac_site.clear_fault("chiller-1")
        await manual_clock.run_for(2, step=1.0)
        assert isinstance(await _node(client, "RoomTemp").read_value(), float)
        # subscriptions dropped while the session lives: the session still reads
        sub = await client.create_subscription(1000, None)
        assert await hvac_site.drop_subscriptions("chiller-1") == 1
        codes = await sub.set_publishing_mode(True)
        assert [c.name for c in codes] == ["BadSubscriptionIdInvalid"]
        assert isinstance(await _node(client, "RoomTemp").read_value(), float)
    with pytest.raises(SimControlError, match="not an OPC UA device"):
        await SimSite(
            SiteSpec(devices=[MeterSpec(name="m")]), clock=ManualClock()
        ).drop_subscriptions("m")


async def test_username_and_basic256sha256(tmp_path: Path, manual_clock: ManualClock) -> None:
    spec = SiteSpec(
        devices=[
            HVACSpec(name="chiller-1", username="op", password="s3cret", secure=True),
            MeterSpec(name="meter-1"),
        ]
    )
    key, cert = tmp_path / "client-key.pem", tmp_path / "client-cert.der"
    await setup_self_signed_certificate(
        key, cert, "urn:lingtan:test:client", "localhost", [ExtendedKeyUsageOID.CLIENT_AUTH], {}
    )
    async with SimSite(spec, clock=manual_clock) as site:
        url = site.endpoint("chiller-1").endpoint
        assert url is not None
        chiller = site.chiller("chiller-1")
        client: Any = Client(url=url, timeout=5)
        client.set_user("op")
        client.set_password("s3cret")
        client.application_uri = "urn:lingtan:test:client"
        await client.set_security_string(f"Basic256Sha256,SignAndEncrypt,{cert},{key}")
        async with asyncio.timeout(SAFETY_TIMEOUT):
            async with client:
                await _node(client, "Setpoint").write_value(ua.Variant(23.0, ua.VariantType.Double))
        assert chiller.setpoint_c == 23.0
        intruder: Any = Client(url=url, timeout=5)
        intruder.set_user("op")
        intruder.set_password("wrong")
        intruder.application_uri = "urn:lingtan:test:client"
        await intruder.set_security_string(f"Basic256Sha256,SignAndEncrypt,{cert},{key}")
        async with asyncio.timeout(SAFETY_TIMEOUT):
            with pytest.raises(UaError):
                await intruder.connect()
            await intruder.disconnect()


async def test_drop_closes_opcua_sessions(hvac_site: SimSite) -> None:
    url = hvac_site.endpoint("chiller-1").endpoint
    assert url is not None
    client: Any = Client(url=url, timeout=2)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await client.connect()
        try:
            assert isinstance(await _node(client, "RoomTemp").read_value(), float)
            hvac_site.set_fault("chiller-1", "drop")
            with pytest.raises((ConnectionError, UaError, TimeoutError)):
                await _node(client, "RoomTemp").read_value()
        finally:
            with contextlib.suppress(ConnectionError, UaError, TimeoutError):
                await client.disconnect()
    hvac_site.clear_fault("chiller-1")
    async with asyncio.timeout(SAFETY_TIMEOUT), Client(url=url, timeout=5) as again:
        assert isinstance(await _node(again, "RoomTemp").read_value(), float)
