"""The hub link over TLS with a client certificate (mosquitto requires one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edge_agent import Agent, parse_config
from tests.conftest import MosquittoFactory
from tests.edge_agent.conftest import config_text, until
from tests.support import service_missing

pytestmark = pytest.mark.mosquitto


def openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        service_missing("openssl is not installed")
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    exts = {"server": "subjectAltName=IP:127.0.0.1", "edge": "extendedKeyUsage=clientAuth"}
    for name, ext in exts.items():
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}.pem", cwd=d)  # fmt: skip


async def test_agent_connects_with_a_client_certificate_and_not_without(
    tmp_path: Path, mosquitto_factory: MosquittoFactory
) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    broker = mosquitto_factory([
        f"cafile {pki / 'ca.pem'}", f"certfile {pki / 'server.pem'}",
        f"keyfile {pki / 'server.key'}", "require_certificate true",
    ])  # fmt: skip
    base = config_text(tmp_path, mqtt_port=broker.port).replace(
        f'url = "mqtt://127.0.0.1:{broker.port}"', f'url = "mqtts://127.0.0.1:{broker.port}"\n'
        f'ca_file = "{pki / "ca.pem"}"'
    )  # fmt: skip
    with_cert = parse_config(base.replace("reconnect_max_s = 0.5", "reconnect_max_s = 0.5\n"
        f'cert_file = "{pki / "edge.pem"}"\nkey_file = "{pki / "edge.key"}"'))  # fmt: skip
    assert with_cert.hub.tls and with_cert.hub.port == broker.port
    async with Agent(with_cert) as agent:
        await until(lambda: agent.link is not None and agent.link.connected, "TLS connection")
    without = parse_config(base.replace("outbox.db", "outbox2.db"))
    async with Agent(without) as agent:
        await until(lambda: agent.link is not None, "link")
        link = agent.link
        assert link is not None
        await until(lambda: agent.outbox.committed_key[1] >= 2, "two cycles")
        assert not link.connected and link.connects == 0  # refused without a certificate
