"""The production broker config in deploy/mosquitto, run for real on loopback.

The operator's flow, end to end: ``deploy/mosquitto/make-certs.sh`` (openssl) makes a CA,
the broker's certificate and one client certificate per edge; ``vpp hub edge add``
registers two edges and prints each one's MQTT password and ACL block; mosquitto starts
with ``deploy/mosquitto/mosquitto.conf`` (paths moved into a temporary directory, each
listener moved to a free loopback port), ``acl.hub`` plus those blocks, and a password file
made with ``mosquitto_passwd``. Then real clients show that TLS and a credential are
required, that an edge's certificate stands for that edge only, and that an edge is
confined to its own topics on both listeners.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest

from lingtan.broker import Mosquitto, free_port, mosquitto_binary, wait_for_port
from protocol.topics import EdgeTopics, replica_reply_filter
from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
MAKE_CERTS = DEPLOY / "make-certs.sh"
# The first listener's line is dropped: its settings then apply to the listener the
# Mosquitto helper opens on a free port. Later listeners move to other free ports.
# Everything else is appended to a main config that, like Debian's, already sets
# persistence: a duplicate stops mosquitto.
QUIET = 0.5  # how long a subscriber waits for a message that must not come


def make_certs(*args: str | Path) -> None:
    proc = subprocess.run(
        ["sh", str(MAKE_CERTS), *map(str, args)],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def make_pki(directory: Path, users: list[str]) -> None:
    """The shipped script: a CA, a server certificate for 127.0.0.1, one per user."""
    if shutil.which("openssl") is None:
        service_missing("openssl is needed (apt-get install openssl)")
    make_certs("ca", directory)
    make_certs("server", directory, "127.0.0.1", "localhost")
    for user in users:
        make_certs("client", directory, user)


@dataclass(frozen=True)
class SecureBroker:
    cert_port: int
    password_port: int
    pki: Path
    passwords: dict[str, str]

    def client(self, user: str | None, *, tls: bool = True, **kwargs: object) -> aiomqtt.Client:
        """A user name and password on the password listener."""
        return aiomqtt.Client(
            "127.0.0.1",
            self.password_port,
            username=user,
            password=self.passwords.get(user or "", None),
            tls_params=aiomqtt.TLSParameters(ca_certs=str(self.pki / "ca.crt")) if tls else None,
            protocol=aiomqtt.ProtocolVersion.V5,
            **kwargs,  # type: ignore[arg-type]
        )

    def cert_client(self, user: str | None, pki: Path | None = None) -> aiomqtt.Client:
        """The certificate made for ``user`` (None: none) on the mutual-TLS listener."""
        pki = pki or self.pki
        return aiomqtt.Client(
            "127.0.0.1",
            self.cert_port,
            tls_params=aiomqtt.TLSParameters(
                ca_certs=str(self.pki / "ca.crt"),
                certfile=None if user is None else str(pki / f"{user}.crt"),
                keyfile=None if user is None else str(pki / f"{user}.key"),
            ),
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=3,
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


def shipped_config(directory: Path) -> tuple[list[str], int]:
    """The shipped config's lines with paths in ``directory``; the second listener's port."""
    lines: list[str] = []
    listeners = 0
    password_port = 0
    for raw in (DEPLOY / "mosquitto.conf").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("listener "):
            listeners += 1
            if listeners == 1:
                continue
            password_port = free_port()
            line = f"listener {password_port} 127.0.0.1"
        lines.append(line.replace("/etc/mosquitto/lingtan", str(directory)))
    assert listeners == 2, "the shipped config has a certificate and a password listener"
    return lines, password_port


@dataclass(frozen=True)
class Material:
    """What the operator makes once: certificates, passwords, the ACL file."""

    directory: Path
    passwords: dict[str, str]


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    if mosquitto_binary() is None or shutil.which("mosquitto_passwd") is None:
        service_missing("mosquitto and mosquitto_passwd are needed")
    directory = tmp_path_factory.mktemp("broker")
    make_pki(directory, ["hub", "edge-park-a", "edge-park-b"])
    passwords = {"hub": "hub-secret"}
    acl = (DEPLOY / "acl.hub").read_text()
    for edge in ("park-a", "park-b"):
        password, block = register_edge(directory, "acme", edge)
        passwords[f"edge-{edge}"] = password
        acl += "\n" + block
    passwd = directory / "passwd"
    for index, (user, password) in enumerate(passwords.items()):
        flags = ["-c"] if index == 0 else []
        subprocess.run(
            ["mosquitto_passwd", *flags, "-b", str(passwd), user, password],
            check=True, capture_output=True, timeout=SAFETY_TIMEOUT,
        )  # fmt: skip
    passwd.chmod(0o600)
    (directory / "acl").write_text(acl)
    (directory / "acl").chmod(0o600)
    return Material(directory, passwords)


@pytest.fixture
def secure_broker(material: Material) -> Iterator[SecureBroker]:
    lines, password_port = shipped_config(material.directory)
    broker = Mosquitto(extra_config=lines, persistence=False)
    broker.start(timeout=SAFETY_TIMEOUT)
    # start() waits for the certificate listener; the password one opens after it.
    wait_for_port("127.0.0.1", password_port, SAFETY_TIMEOUT)
    try:
        yield SecureBroker(broker.port, password_port, material.directory, material.passwords)
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
    assert "require_certificate true" in text
    assert "use_identity_as_username true" in text
    assert "acl_file" in text
    assert "password_file" in text
    # The default queue (1000) drops a slow hub's QoS 1 messages; the shipped one is larger.
    queued = next(
        int(line.split()[1]) for line in text.splitlines() if line.startswith("max_queued_messages")
    )
    assert queued >= 100_000


def test_the_script_refuses_to_overwrite_a_ca_and_bad_names(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        service_missing("openssl is needed (apt-get install openssl)")
    make_certs("ca", tmp_path)
    again = subprocess.run(
        ["sh", str(MAKE_CERTS), "ca", str(tmp_path)],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT, check=False,
    )  # fmt: skip
    assert again.returncode == 1
    assert "not overwriting" in again.stderr
    bad = subprocess.run(
        ["sh", str(MAKE_CERTS), "client", str(tmp_path), "edge-a/../../x"],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert not list(tmp_path.glob("*.key"))[1:], "only the CA key was written"


async def test_anonymous_and_wrong_passwords_are_refused(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.client(None):
                pass
        bad = SecureBroker(
            secure_broker.cert_port, secure_broker.password_port, secure_broker.pki,
            {"hub": "wrong"},
        )  # fmt: skip
        with pytest.raises(aiomqtt.MqttError):
            async with bad.client("hub"):
                pass


async def test_plain_tcp_is_refused(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.client("hub", tls=False, timeout=2):
                pass


async def test_the_certificate_listener_wants_a_certificate_of_our_ca(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    rogue = tmp_path / "rogue"
    make_certs("ca", rogue)
    make_certs("client", rogue, "edge-park-a")  # the right name, the wrong CA
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.cert_client(None):
                pass
        with pytest.raises(aiomqtt.MqttError):
            async with secure_broker.cert_client("edge-park-a", pki=rogue):
                pass
        async with secure_broker.cert_client("edge-park-a") as edge_a:
            await edge_a.publish(TOPICS_A.state, b"up", qos=1)


async def test_an_edge_certificate_writes_only_its_own_uplink(
    secure_broker: SecureBroker,
) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with secure_broker.client("hub") as hub:
            await hub.subscribe("$share/hub/vpp/v1/+/+/data", qos=1)
            async with secure_broker.cert_client("edge-park-a") as edge_a:
                await edge_a.publish(TOPICS_B.data, b"spoofed", qos=1)
                await edge_a.publish(TOPICS_A.config, b"self-configured", qos=1)
                await edge_a.publish(TOPICS_A.data, b"mine", qos=1)
            # Per-client ordering: had the spoof passed, it would arrive before "mine".
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"mine"
            assert await next_payload(hub, QUIET) is None


async def test_an_edge_certificate_reads_only_its_own_downlink(
    secure_broker: SecureBroker,
) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with secure_broker.client("hub") as hub:
            await hub.publish(TOPICS_B.dispatch, b"b-schedule", qos=1, retain=True)
            await hub.publish(TOPICS_A.dispatch, b"a-schedule", qos=1, retain=True)
            async with secure_broker.cert_client("edge-park-a") as edge_a:
                await edge_a.subscribe(TOPICS_B.dispatch, qos=1)
                await edge_a.subscribe(TOPICS_A.dispatch, qos=1)
                assert await next_payload(edge_a, SAFETY_TIMEOUT) == b"a-schedule"
                assert await next_payload(edge_a, QUIET) is None


async def test_a_password_edge_writes_only_its_own_uplink(secure_broker: SecureBroker) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with secure_broker.client("hub") as hub:
            await hub.subscribe("$share/hub/vpp/v1/+/+/data", qos=1)
            async with secure_broker.client("edge-park-a") as edge_a:
                await edge_a.publish(TOPICS_B.data, b"spoofed", qos=1)
                await edge_a.publish(TOPICS_A.data, b"mine", qos=1)
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"mine"
            assert await next_payload(hub, QUIET) is None


async def test_the_hub_can_command_edges_and_read_their_replies(
    secure_broker: SecureBroker,
) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with (
            secure_broker.client("hub") as hub,
            secure_broker.cert_client("edge-park-a") as edge_a,
        ):
            await edge_a.subscribe(TOPICS_A.cmd_filter, qos=1)
            await hub.subscribe(TOPICS_A.reply, qos=1)
            await hub.publish(TOPICS_A.cmd("bess-1"), b"cmd", qos=1)
            assert await next_payload(edge_a, SAFETY_TIMEOUT) == b"cmd"
            await edge_a.publish(TOPICS_A.reply, b"reply", qos=1)
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"reply"


async def test_an_edge_replies_to_one_hub_replica_only_under_its_own_tree(
    secure_broker: SecureBroker,
) -> None:
    """A command's reply_to is a replica's topic under the edge's tree (hub.commands): the
    edge may publish there, the replica reads it without $share, and another edge cannot
    answer in the first one's name."""
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        async with (
            secure_broker.client("hub") as hub,
            secure_broker.cert_client("edge-park-a") as edge_a,
        ):
            await hub.subscribe(replica_reply_filter("hub-1"), qos=1)
            await edge_a.publish(TOPICS_B.reply_to("hub-1"), b"spoofed", qos=1)
            await edge_a.publish(TOPICS_A.reply_to("hub-1"), b"reply", qos=1)
            assert await next_payload(hub, SAFETY_TIMEOUT) == b"reply"
            assert await next_payload(hub, QUIET) is None
