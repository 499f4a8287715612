"""The compose file passes ``docker compose config`` and describes the topology it claims.

``docker compose config`` needs no Docker engine. Where the compose plugin is missing,
Debian's ``docker-compose`` (1.29) validates the same file; with neither, the test skips
locally and fails under ``CI=true``. HAProxy's own ``haproxy -c`` checks the balancer's
config with a certificate made by the shipped script.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
HAPROXY = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "REPLICATION_PASSWORD": "repl-secret",
    "READONLY_PASSWORD": "ro-secret",
    "VPP_HUB_JWT_SECRET": "jwt-secret",
    "VPP_HUB_MQTT_PASSWORD": "mqtt-secret",
    "MQTT_EXPORTER_PASSWORD": "exporter-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
    "VPP_HUB_METRICS_TOKEN": "scrape-secret",
}


def compose_command() -> list[str]:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=SAFETY_TIMEOUT, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is not None:
        return [legacy]
    return service_missing("docker compose (or Debian's docker-compose) is needed")


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*compose_command(), "-f", str(COMPOSE), "config"],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT * 4, check=False,
        env={**clean, **env}, cwd=COMPOSE.parent,
    )  # fmt: skip


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    proc = compose_config(SECRETS)
    assert proc.returncode == 0, proc.stderr
    loaded: dict[str, Any] = yaml.safe_load(proc.stdout)
    return loaded


def test_compose_config_accepts_the_file(config: dict[str, Any]) -> None:
    services = config["services"]
    hubs = sorted(name for name in services if re.fullmatch(r"hub-\d+", name))
    assert hubs == ["hub-1", "hub-2"]
    for name in (
        "haproxy", "postgres-primary", "postgres-replica", "redis", "mosquitto",
        "prometheus", "grafana", "alertmanager", "alert-relay", "migrate",
    ):  # fmt: skip
        assert name in services, name
    ids = {services[hub]["environment"]["VPP_HUB_MQTT_CLIENT_ID"] for hub in hubs}
    assert len(ids) == len(hubs), "each replica has its own persistent MQTT session"
    secrets = {services[hub]["environment"]["VPP_HUB_JWT_SECRET"] for hub in hubs}
    assert secrets == {SECRETS["VPP_HUB_JWT_SECRET"]}, "one signing key for every replica"
    for hub in hubs:
        assert "/readyz" in " ".join(services[hub]["healthcheck"]["test"])
        assert services[hub]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_a_missing_secret_is_refused_by_name() -> None:
    proc = compose_config({k: v for k, v in SECRETS.items() if k != "VPP_HUB_JWT_SECRET"})
    assert proc.returncode != 0
    assert "VPP_HUB_JWT_SECRET" in proc.stderr


def test_every_file_the_compose_file_mounts_from_the_repository_exists() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    mounted = [
        volume.split(":", 1)[0]
        for service in raw["services"].values()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and volume.startswith("../")
    ]
    assert mounted
    for source in mounted:
        assert (COMPOSE.parent / source).exists(), source


def test_the_balancer_knows_every_replica_and_checks_readiness(
    config: dict[str, Any], tmp_path: Path
) -> None:
    text = HAPROXY.read_text()
    assert "option httpchk GET /readyz" in text
    servers = set(re.findall(r"^\s*server (hub-\d+) ", text, flags=re.MULTILINE))
    assert servers == {name for name in config["services"] if re.fullmatch(r"hub-\d+", name)}
    haproxy = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if haproxy is None:
        service_missing("haproxy is needed (apt-get install haproxy)")
    certs = ROOT / "deploy" / "mosquitto" / "make-certs.sh"
    for args in (["ca"], ["server", "hub.example.com"]):
        subprocess.run(
            ["sh", str(certs), args[0], str(tmp_path), *args[1:]],
            check=True, capture_output=True, timeout=SAFETY_TIMEOUT,
        )  # fmt: skip
    pem = tmp_path / "hub.pem"
    pem.write_bytes((tmp_path / "server.crt").read_bytes() + (tmp_path / "server.key").read_bytes())
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text.replace("/usr/local/etc/haproxy/certs/hub.pem", str(pem)))
    proc = subprocess.run(
        [haproxy, "-c", "-f", str(cfg)],
        capture_output=True, text=True, timeout=SAFETY_TIMEOUT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Configuration file is valid" in proc.stdout + proc.stderr
