"""An alert fired in the test goes through a real Alertmanager with the shipped routing to
webhook receivers: straight (Alertmanager's JSON) and through the alert relay
(``python -m hub.ops.relay`` as a process) as WeCom and DingTalk group-robot messages.

Debian's ``prometheus-alertmanager`` runs ``deploy/alertmanager/alertmanager.yml`` with
three changes for a closed loopback test: the email receivers and SMTP settings are
removed (no mail leaves the machine), the relay's and the ticketing webhook's addresses
point at processes of the test, and ``group_wait`` is 1 s instead of 10-30 s. The receiver
is a real HTTP server on a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lingtan.broker import free_port, wait_for_port
from tests.hub.test_alerts import Receiver, serve_receiver
from tests.support import SAFETY_TIMEOUT, service_missing

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
RELAY_TOKEN = "relay-test-token"


def alertmanager_binary() -> str:
    path = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if path is None:
        service_missing("Alertmanager is needed (apt-get install prometheus-alertmanager)")
    return path


def closed_config(relay_url: str, ticket_url: str, token_file: Path) -> dict[str, Any]:
    """The shipped config, closed to the outside world, with test addresses."""
    config: dict[str, Any] = yaml.safe_load(SHIPPED.read_text())
    config["global"] = {"resolve_timeout": "5m"}
    config.pop("templates", None)
    config["route"]["group_wait"] = "1s"
    for route in config["route"].get("routes", []):
        route["group_wait"] = "1s"
    for receiver in config["receivers"]:
        receiver.pop("email_configs", None)
        for hook in receiver.get("webhook_configs", []):
            url = hook["url"].replace("http://alert-relay:9095", relay_url)
            if "ticketing.example.com" in url:
                url = ticket_url
            else:  # the relay wants its token (Alertmanager's http_config)
                hook["http_config"] = {
                    "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
                }
            hook["url"] = url
    # Every receiver left must still have a channel (email-only ones get the ticket hook).
    for receiver in config["receivers"]:
        receiver.setdefault("webhook_configs", [{"url": ticket_url}])
    return config


def http_json(url: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=SAFETY_TIMEOUT) as response:
        text = response.read()
    return json.loads(text) if text else None


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + SAFETY_TIMEOUT * 2
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not become ready")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(SAFETY_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(SAFETY_TIMEOUT)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve_receiver(Receiver())


@pytest.fixture
def relay(receiver: Receiver, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    targets = [
        {"name": "wecom-oncall", "kind": "wecom", "url": receiver.url("/wecom-oncall")},
        {"name": "wecom-ops", "kind": "wecom", "url": receiver.url("/wecom-ops")},
        {"name": "dingtalk-oncall", "kind": "dingtalk", "url": receiver.url("/dingtalk-oncall"),
         "secret": "SECtest"},
    ]  # fmt: skip
    env = {
        **os.environ,
        "VPP_HUB_ALERT_TARGETS": json.dumps(targets),
        "VPP_RELAY_TOKEN": RELAY_TOKEN,
    }
    log = (tmp_path / "relay.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.ops.relay", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def alertmanager(relay: str, receiver: Receiver, tmp_path: Path) -> Iterator[str]:
    binary = alertmanager_binary()
    token = tmp_path / "relay-token"
    token.write_text(RELAY_TOKEN)
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(closed_config(relay, receiver.url("/tickets"), token)))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port("127.0.0.1", port, SAFETY_TIMEOUT)
        wait_ready(f"http://127.0.0.1:{port}/-/ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


def test_a_critical_alert_reaches_the_robots_through_the_relay_and_the_plain_webhook(
    alertmanager: str, receiver: Receiver
) -> None:
    # What Prometheus posts when LingtanTradingBreakerTripped fires.
    http_json(
        f"{alertmanager}/api/v2/alerts",
        [
            {
                "labels": {
                    "alertname": "LingtanTradingBreakerTripped", "severity": "critical",
                    "runbook": "breaker-tripped", "tenant": "acme", "vpp": "vpp-1",
                },
                "annotations": {
                    "summary": "Trading breaker tripped for acme/vpp-1",
                    "description": "Automatic bidding is stopped until a trader resets it.",
                },
            }
        ],
    )  # fmt: skip
    deadline = time.monotonic() + SAFETY_TIMEOUT * 2
    while {path.split("?")[0] for path, _ in receiver.got} < {
        "/wecom-oncall", "/dingtalk-oncall", "/tickets",
    }:  # fmt: skip
        assert time.monotonic() < deadline, f"got only {[p for p, _ in receiver.got]}"
        time.sleep(0.05)
    got = {path.split("?")[0]: (path, body) for path, body in receiver.got}
    wecom = got["/wecom-oncall"][1]
    assert wecom["msgtype"] == "markdown"
    assert "[FIRING] LingtanTradingBreakerTripped" in wecom["markdown"]["content"]
    assert "tenant=acme" in wecom["markdown"]["content"]
    ding_path, ding = got["/dingtalk-oncall"]
    assert "sign=" in ding_path, "the relay signs for a DingTalk robot with a secret"
    assert ding["markdown"]["title"] == "[FIRING] LingtanTradingBreakerTripped"
    plain = got["/tickets"][1]
    assert plain["receiver"] == "oncall", "the shipped route sends critical alerts to on-call"
    assert plain["alerts"][0]["labels"]["alertname"] == "LingtanTradingBreakerTripped"
    assert "/wecom-ops" not in got, "a critical alert does not go to the warnings' robot"


def test_a_warning_goes_to_the_operations_robot_only(alertmanager: str, receiver: Receiver) -> None:
    http_json(
        f"{alertmanager}/api/v2/alerts",
        [{"labels": {"alertname": "LingtanEdgeOffline", "severity": "warning",
                     "tenant": "acme", "edge": "park-a"},
          "annotations": {"summary": "Edge acme/park-a is offline"}}],
    )  # fmt: skip
    deadline = time.monotonic() + SAFETY_TIMEOUT * 2
    while not any(path == "/wecom-ops" for path, _ in receiver.got):
        assert time.monotonic() < deadline, f"got only {[p for p, _ in receiver.got]}"
        time.sleep(0.05)
    time.sleep(1.0)  # anything else Alertmanager would send for this group comes with it
    paths = {path.split("?")[0] for path, _ in receiver.got}
    assert paths == {"/wecom-ops"}
    body = next(b for p, b in receiver.got if p == "/wecom-ops")
    assert "Edge acme/park-a is offline" in body["markdown"]["content"]
