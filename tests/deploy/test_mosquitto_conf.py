"""The production broker config in deploy/mosquitto, run for real on loopback.

The operator's flow, end to end: ``vpp hub edge add`` registers two edges and prints each
one's MQTT password and ACL block; mosquitto starts with ``deploy/mosquitto/mosquitto.conf``
(paths moved into a temporary directory, the TLS settings applied to a free loopback
port), ``acl.hub`` plus those blocks, and a password file made with ``mosquitto_passwd``.
Then real clients show that TLS and credentials are required and that an edge is confined
to its own topics.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lingtan.broker import Mosquitto, mosquitto_binary
from protocol.topics import EdgeTopics
from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
# Only the listener line moves (to a free loopback port). Everything else is appended to a
# main config that, like Debian's, already sets persistence: a duplicate stops mosquitto.
SKIPPED_DIRECTIVES = ("listener", "protocol")
QUIET = 0.5  # how long a subscriber waits for a message that must not come


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_pki(directory: Path) -> None:
    """A CA and a server certificate for 127.0.0.1, written as ca.crt/server.crt/server.key."""
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = _key(), _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lingtan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(_pem(server_key))


@dataclass(frozen=True)
class SecureBroker:
    port: int
    ca: Path
    passwords: dict[str, str]

    def client(self, user: str | None, *, tls: bool = True, **kwargs: object) -> aiomqtt.Client:
        return aiomqtt.Client(
            "127.0.0.1",
            self.port,
            username=user,
            password=self.passwords.get(user or "", None),
            tls_params=aiomqtt.TLSParameters(ca_certs=str(self.ca)) if tls else None,
            protocol=aiomqtt.ProtocolVersion.V5,
            **kwargs,  # type: ignore[arg-type]
        )


TOPICS_A = EdgeTopics("acme", "park-a")
TOPICS_B = EdgeTopics("acme", "park-b")


def register_edge(directory: Path, tenant: str, edge: str) -> tuple[str, str]:
    """Run ``vpp hub edge add``; return the edge's MQTT password and its ACL block."""
    proc = subprocess.run(
        [sys.executable, "-m", "lingtan", "hub", "edge", "add", edge, "--tenant", tenant,
         "--db", f"sqlite+aiosqlite:///{directory / 'hub.db'}",
         "--mqtt", "mqtts://127.0.0.1:8883"],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT * 4, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    marker = f"# MQTT password for edge-{edge} (shown once): "
    password = next(
        line.removeprefix(marker) for line in proc.stdout.splitlines() if line.startswith(marker)
    )
    acl = proc.stdout.split("# ---- mosquitto ACL ----", 1)[1]
    assert f"user edge-{edge}" in acl
    return password.strip(), acl


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[SecureBroker]:
    if mosquitto_binary() is None or shutil.which("mosquitto_passwd") is None:
        service_missing("mosquitto and mosquitto_passwd are needed")
    make_pki(tmp_path)
    passwords = {"hub": "hub-secret"}
    acl = (DEPLOY / "acl.hub").read_text()
    for edge in ("park-a", "park-b"):
        password, block = register_edge(tmp_path, "acme", edge)
        passwords[f"edge-{edge}"] = password
        acl += "\n" + block
    passwd = tmp_path / "passwd"
    for index, (user, password) in enumerate(passwords.items()):
        flags = ["-c"] if index == 0 else []
        subprocess.run(
            ["mosquitto_passwd", *flags, "-b", str(passwd), user, password],
            check=True, capture_output=True, timeout=SAFETY_TIMEOUT,
        )  # fmt: skip
    passwd.chmod(0o600)
    (tmp_path / "acl").write_text(acl)
    (tmp_path / "acl").chmod(0o600)
    lines = [
        line.replace("/etc/mosquitto/lingtan", str(tmp_path))
        for line in (DEPLOY / "mosquitto.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(SKIPPED_DIRECTIVES)
    ]
    broker = Mosquitto(extra_config=lines, persistence=False)
    broker.start()
    try:
        yield SecureBroker(broker.port, tmp_path / "ca.crt", passwords)
    finally:
        broker.close()


async def next_payload(client: aiomqtt.Client, wait: float) -> bytes | None:
    try:
        async with asyncio.timeout(wait):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                return message.payload
    except TimeoutError:
        return None
    return None  # pragma: no cover


def test_the_shipped_config_is_tls_only_and_closed() -> None:
    text = (DEPLOY / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in text
    assert "listener 8883" in text
    assert "acl_file" in text
    assert "password_file" in text


async def test_anonymous_and_wrong_passwords_are_refused(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.client(None):
                pass
        bad = SecureBroker(secure_broker.port, secure_broker.ca, {"hub": "wrong"})
        with pytest.raises(aiomqtt.MqttError):
            async with bad.client("hub"):
                pass


async def test_plain_tcp_is_refused(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.client("hub", tls=False, timeout=2):
                pass


async def test_an_edge_can_write_only_its_own_uplink(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with secure_broker.client("hub") as hub:
            await hub.subscribe("$share/hub/vpp/v1/+/+/data", qos=1)
            async with secure_broker.client("edge-park-a") as edge_a:
                await edge_a.publish(TOPICS_B.data, b"spoofed", qos=1)
                await edge_a.publish(TOPICS_A.config, b"self-configured", qos=1)
                await edge_a.publish(TOPICS_A.data, b"mine", qos=1)
            # Per-client ordering: had the spoof passed, it would arrive before "mine".
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"mine"
            assert await next_payload(hub, QUIET) is None


async def test_an_edge_cannot_read_another_edges_downlink(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with secure_broker.client("hub") as hub:
            await hub.publish(TOPICS_B.dispatch, b"b-schedule", qos=1, retain=True)
            await hub.publish(TOPICS_A.dispatch, b"a-schedule", qos=1, retain=True)
            async with secure_broker.client("edge-park-a") as edge_a:
                await edge_a.subscribe(TOPICS_B.dispatch, qos=1)
                await edge_a.subscribe(TOPICS_A.dispatch, qos=1)
                assert await next_payload(edge_a, SAFETY_TIMEOUT) == b"a-schedule"
                assert await next_payload(edge_a, QUIET) is None


async def test_the_hub_can_command_edges_and_read_their_replies(
    secure_broker: SecureBroker,
) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with (
            secure_broker.client("hub") as hub,
            secure_broker.client("edge-park-a") as edge_a,
        ):
            await edge_a.subscribe(TOPICS_A.cmd_filter, qos=1)
            await hub.subscribe(TOPICS_A.reply, qos=1)
            await hub.publish(TOPICS_A.cmd("bess-1"), b"cmd", qos=1)
            assert await next_payload(edge_a, SAFETY_TIMEOUT) == b"cmd"
            await edge_a.publish(TOPICS_A.reply, b"reply", qos=1)
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"reply"
