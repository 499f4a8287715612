"""Brokers on loopback: the mosquitto fixture, the amqtt demo broker, `vpp broker`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import aiomqtt
import pytest

from lingtan.broker import (
    BrokerError,
    Mosquitto,
    amqtt_config,
    free_port,
    local_broker,
    mosquitto_binary,
    wait_for_port,
)
from tests.support import SAFETY_TIMEOUT, service_missing


async def roundtrip(url: str, topic: str = "vpp/v1/t/e/data", retain: bool = False) -> bytes:
    """Publish one QoS 1 message and receive it back through the broker at ``url``."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    async with asyncio.timeout(SAFETY_TIMEOUT):
        async with aiomqtt.Client(parts.hostname, parts.port, identifier="rt-sub") as sub:
            await sub.subscribe(topic, qos=1)
            async with aiomqtt.Client(parts.hostname, parts.port, identifier="rt-pub") as pub:
                await pub.publish(topic, b"hello", qos=1, retain=retain)
            async for message in sub.messages:
                assert isinstance(message.payload, bytes)
                return message.payload
    raise AssertionError("no message")  # pragma: no cover


async def read_retained(url: str, topic: str) -> bytes:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    async with asyncio.timeout(SAFETY_TIMEOUT):
        async with aiomqtt.Client(parts.hostname, parts.port) as client:
            await client.subscribe(topic, qos=1)
            async for message in client.messages:
                assert message.retain
                assert isinstance(message.payload, bytes)
                return message.payload
    raise AssertionError("no message")  # pragma: no cover


async def test_mosquitto_fixture_carries_messages(mosquitto: Mosquitto) -> None:
    assert mosquitto.running
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    assert await roundtrip(mosquitto.url) == b"hello"


async def test_retained_messages_survive_a_broker_restart_on_the_same_port(
    mosquitto: Mosquitto,
) -> None:
    await roundtrip(mosquitto.url, topic="vpp/v1/t/e/config", retain=True)
    port = mosquitto.port
    mosquitto.stop()
    assert not mosquitto.running
    mosquitto.start()
    assert mosquitto.port == port
    assert await read_retained(mosquitto.url, "vpp/v1/t/e/config") == b"hello"


def test_mosquitto_config_is_ours_and_loopback_only(mosquitto: Mosquitto) -> None:
    text = mosquitto.config_text()
    assert f"listener {mosquitto.port} 127.0.0.1" in text
    assert "persistence true" in text


def test_mosquitto_extra_config_lines_are_applied(mosquitto_factory: object) -> None:
    assert callable(mosquitto_factory)
    broker = mosquitto_factory(extra_config=["max_keepalive 120"], persistence=False)
    assert "max_keepalive 120" in broker.config_text()
    assert "persistence false" in broker.config_text()
    assert broker.running


def test_mosquitto_as_context_manager_stops_and_cleans_up() -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    broker = Mosquitto()
    with broker:
        states = [broker.running]
        workdir = broker.workdir
        assert workdir is not None
        assert workdir.exists()
    states.append(broker.running)
    broker.stop()  # stopping twice is harmless
    states.append(broker.running)
    assert states == [True, False, False]
    assert not workdir.exists()


def test_mosquitto_is_out_of_reach_of_the_terminals_ctrl_c() -> None:
    """A Ctrl-C goes to the terminal's whole foreground process group: mosquitto, in ours,
    died at once while the demo's hub and agent were still stopping on it."""
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    with Mosquitto() as broker:
        assert broker._proc is not None
        pgid = os.getpgid(broker._proc.pid)
        assert pgid != os.getpgrp()
        assert pgid == broker._proc.pid


def test_wait_for_port_gives_up_with_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(BrokerError, match=f"127.0.0.1:{port}"):
        wait_for_port("127.0.0.1", port, timeout=0.2)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname()[1] == port


def test_amqtt_config_binds_loopback_by_default() -> None:
    config = amqtt_config("127.0.0.1", 1234)
    assert config["listeners"]["default"]["bind"] == "127.0.0.1:1234"


@pytest.mark.parametrize("prefer", ["amqtt", "mosquitto"])
async def test_local_broker_carries_messages(prefer: str) -> None:
    if prefer == "mosquitto" and mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    async with local_broker("127.0.0.1", 0, prefer=prefer) as url:
        assert url.startswith("mqtt://127.0.0.1:")
        assert await roundtrip(url) == b"hello"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_vpp_broker_command_serves_and_stops_on_ctrl_c_and_sigterm(
    stop: signal.Signals,
) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lingtan", "broker", "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, SAFETY_TIMEOUT)
        assert await roundtrip(f"mqtt://127.0.0.1:{port}") == b"hello"
    finally:
        proc.send_signal(stop)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert f"mqtt://127.0.0.1:{port}" in stderr.decode()
    assert "Traceback" not in stderr.decode()


def test_vpp_broker_reports_a_port_it_cannot_bind() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "lingtan", "broker", "--port", str(port)],
            capture_output=True,
            timeout=SAFETY_TIMEOUT * 2,
            check=False,
        )
    assert proc.returncode == 1
    assert f"127.0.0.1:{port}" in proc.stderr.decode()
