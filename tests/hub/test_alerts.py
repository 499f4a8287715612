"""The hub's own alerts reach real HTTP receivers: generic JSON, WeCom and DingTalk shapes.

Each receiver is a real HTTP server on a free loopback port (a thread of
``http.server``) that records what it got and answers what the test tells it to: 200, a
5xx, a 4xx, or a robot's ``errcode``. The notifier is the real one (httpx, tenacity) with
short backoff waits; no wall-clock bound is asserted, only order and counts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from hub._metrics import Metrics
from hub._settings import AlertTarget, Settings
from hub.app import create_app
from hub.ops import Alert, Notifier, notify
from hub.ops._alert_bodies import WECOM_MAX_BYTES, wecom_body
from hub.ops.relay import create_relay
from tests.hub.conftest import wait_until
from tests.support import SAFETY_TIMEOUT


@dataclass
class Receiver:
    """A webhook receiver: records (path with query, JSON body); answers from ``replies``."""

    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    default: tuple[int, dict[str, Any]] = (200, {"errcode": 0, "errmsg": "ok"})
    hang: threading.Event | None = None
    got: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    arrived: int = 0
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve_receiver(Receiver())


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    yield from serve_receiver(Receiver())


def serve_receiver(state: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.arrived += 1
            if state.hang is not None:
                state.hang.wait(SAFETY_TIMEOUT)
            state.got.append((self.path, body))
            status, answer = state.replies.pop(0) if state.replies else state.default
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.hang is not None:
            state.hang.set()
        server.shutdown()
        server.server_close()
        thread.join(SAFETY_TIMEOUT)


def target(receiver: Receiver, name: str = "ops", **kwargs: Any) -> AlertTarget:
    return AlertTarget(name=name, url=receiver.url(f"/{name}"), **kwargs)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def sample(name: str = "LingtanTradingBreakerTripped", **kwargs: Any) -> Alert:
    defaults: dict[str, Any] = {
        "summary": "Trading breaker tripped for acme/vpp-1",
        "severity": "critical",
        "labels": {"tenant": "acme", "vpp": "vpp-1"},
        "starts_at_ms": 1_767_225_600_000,
    }
    return Alert(name=name, **{**defaults, **kwargs})


def count(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_a_generic_target_gets_alertmanagers_webhook_body(
    receiver: Receiver, metrics: Metrics
) -> None:
    async with asyncio.timeout(SAFETY_TIMEOUT), Notifier([target(receiver)], metrics) as notifier:
        assert notifier.submit(sample()) == 1
        await wait_until(lambda: _async(len(receiver.got) == 1))
    path, body = receiver.got[0]
    assert path == "/ops"
    assert body["version"] == "4"
    assert body["status"] == "firing"
    (alert,) = body["alerts"]
    assert alert["labels"] == {
        "alertname": "LingtanTradingBreakerTripped", "severity": "critical",
        "tenant": "acme", "vpp": "vpp-1",
    }  # fmt: skip
    assert alert["annotations"]["summary"] == "Trading breaker tripped for acme/vpp-1"
    assert alert["startsAt"] == "2026-01-01T00:00:00.000Z"
    assert count(metrics, "hub_alerts_sent_total", target="ops") == 1


async def test_wecom_and_dingtalk_targets_get_their_robots_markdown(
    receiver: Receiver, metrics: Metrics
) -> None:
    targets = [
        target(receiver, "wecom-oncall", kind="wecom", mention=("zhangsan",)),
        target(receiver, "dingtalk-oncall", kind="dingtalk", secret="SECabc",
               mention=("13800000000",)),
    ]  # fmt: skip
    now_ms = 1_767_225_600_123
    notifier = Notifier(targets, metrics, now_ms=lambda: now_ms)
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        assert notifier.submit(sample()) == 2
        await wait_until(lambda: _async(len(receiver.got) == 2))
    by_path = {urllib.parse.urlsplit(path).path: (path, body) for path, body in receiver.got}
    _, wecom = by_path["/wecom-oncall"]
    assert wecom["msgtype"] == "markdown"
    content = wecom["markdown"]["content"]
    assert "[FIRING] LingtanTradingBreakerTripped" in content
    assert "tenant=acme" in content
    assert content.endswith("<@zhangsan>")
    ding_path, ding = by_path["/dingtalk-oncall"]
    assert ding["msgtype"] == "markdown"
    assert ding["markdown"]["title"] == "[FIRING] LingtanTradingBreakerTripped"
    assert ding["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    # The signature DingTalk checks: HMAC-SHA256 over "timestamp\nsecret", base64.
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ding_path).query)
    assert query["timestamp"] == [str(now_ms)]
    expected = base64.b64encode(
        hmac.new(b"SECabc", f"{now_ms}\nSECabc".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]


async def test_server_errors_are_retried_and_delivered_once(
    receiver: Receiver, metrics: Metrics
) -> None:
    receiver.replies = [(503, {}), (502, {}), (200, {})]
    notifier = Notifier([target(receiver)], metrics, wait_initial_s=0.01, wait_max_s=0.05)
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        notifier.submit(sample())
        await wait_until(lambda: _async(count(metrics, "hub_alerts_sent_total", target="ops") == 1))
    assert len(receiver.got) == 3
    assert count(metrics, "hub_alert_retries_total", target="ops") == 2


async def test_attempts_are_bounded_then_the_alert_is_dropped_and_counted(
    receiver: Receiver, metrics: Metrics
) -> None:
    receiver.default = (500, {})
    notifier = Notifier(
        [target(receiver)], metrics, attempts=3, wait_initial_s=0.01, wait_max_s=0.02
    )
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        notifier.submit(sample())
        await wait_until(
            lambda: _async(
                count(metrics, "hub_alerts_dropped_total", target="ops", reason="attempts") == 1
            )
        )
    assert len(receiver.got) == 3
    assert count(metrics, "hub_alerts_sent_total", target="ops") == 0


async def test_a_refusal_is_not_retried(receiver: Receiver, metrics: Metrics) -> None:
    receiver.replies = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    notifier = Notifier([target(receiver, kind="wecom")], metrics, wait_initial_s=0.01)
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        notifier.submit(sample())
        await wait_until(
            lambda: _async(
                count(metrics, "hub_alerts_dropped_total", target="ops", reason="refused") == 1
            )
        )
        receiver.replies = [(404, {})]
        notifier.submit(sample())
        await wait_until(
            lambda: _async(
                count(metrics, "hub_alerts_dropped_total", target="ops", reason="refused") == 2
            )
        )
    assert len(receiver.got) == 2


async def test_a_robots_rate_limit_is_waited_out(receiver: Receiver, metrics: Metrics) -> None:
    receiver.replies = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    notifier = Notifier([target(receiver, kind="wecom")], metrics, wait_initial_s=0.01)
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        notifier.submit(sample())
        await wait_until(lambda: _async(count(metrics, "hub_alerts_sent_total", target="ops") == 1))
    assert len(receiver.got) == 2


async def test_a_hanging_receiver_blocks_neither_the_caller_nor_other_targets(
    receiver: Receiver, second_receiver: Receiver, metrics: Metrics
) -> None:
    receiver.hang = threading.Event()
    targets = [target(receiver, "stuck"), target(second_receiver, "healthy")]
    notifier = Notifier(targets, metrics, queue_size=2, timeout_s=SAFETY_TIMEOUT)

    def delivered() -> list[str]:
        return [a["annotations"]["summary"] for b in second_receiver.bodies() for a in b["alerts"]]

    async with asyncio.timeout(SAFETY_TIMEOUT * 2), notifier:
        for i in range(4):
            # submit is a plain call: it queues and returns, whatever the receivers do.
            assert notifier.submit(sample(summary=f"alert {i}")) in {1, 2}
            await wait_until(lambda i=i: _async(len(delivered()) == i + 1))  # type: ignore[misc]
            await wait_until(lambda: _async(receiver.arrived == 1))
        # The stuck target holds alert 0 in flight and alerts 1 and 2 in its queue (2 at
        # most): alert 3 was dropped there, and only there.
        assert delivered() == ["alert 0", "alert 1", "alert 2", "alert 3"]
        assert count(metrics, "hub_alerts_dropped_total", target="stuck", reason="queue_full") == 1
        assert (
            count(metrics, "hub_alerts_dropped_total", target="healthy", reason="queue_full") == 0
        )
        receiver.hang.set()
        await wait_until(lambda: _async(len(receiver.got) == 2))  # alert 0, then 1 and 2 as one
    assert [a["annotations"]["summary"] for b in receiver.bodies() for a in b["alerts"]] == [
        "alert 0", "alert 1", "alert 2",
    ]  # fmt: skip


async def test_severity_below_a_targets_minimum_is_not_sent(
    receiver: Receiver, metrics: Metrics
) -> None:
    notifier = Notifier([target(receiver, min_severity="critical")], metrics)
    async with asyncio.timeout(SAFETY_TIMEOUT), notifier:
        assert notifier.submit(sample(severity="warning")) == 0
        assert notifier.submit(sample(severity="critical")) == 1
        await wait_until(lambda: _async(len(receiver.got) == 1))
    assert receiver.got[0][1]["alerts"][0]["labels"]["severity"] == "critical"


async def test_alerts_that_gather_go_as_one_message(receiver: Receiver, metrics: Metrics) -> None:
    receiver.hang = threading.Event()
    notifier = Notifier([target(receiver, kind="wecom")], metrics, timeout_s=SAFETY_TIMEOUT)
    async with asyncio.timeout(SAFETY_TIMEOUT * 2), notifier:
        notifier.submit(sample(summary="first"))
        await wait_until(lambda: _async(receiver.arrived == 1))  # in flight, held there
        for i in range(3):
            notifier.submit(sample(summary=f"then {i}"))
        receiver.hang.set()
        await wait_until(lambda: _async(len(receiver.got) == 2))
    second = receiver.got[1][1]["markdown"]["content"]
    assert all(f"then {i}" in second for i in range(3))


def test_a_long_wecom_message_is_cut_to_its_limit_and_keeps_the_mentions() -> None:
    alerts = [sample(summary=f"边缘 park-{i} 离线 " + "x" * 100) for i in range(200)]
    content = wecom_body(alerts, mention=("lisi",))["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MAX_BYTES
    assert "more" in content
    assert content.endswith("<@lisi>")


def test_alert_targets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "VPP_HUB_ALERT_TARGETS",
        '[{"name": "wecom-ops", "kind": "wecom", "url": "https://example.invalid/send?key=k"}]',
    )
    settings = Settings.from_env()
    assert settings.alert_targets == (
        AlertTarget(name="wecom-ops", kind="wecom", url="https://example.invalid/send?key=k"),
    )
    monkeypatch.setenv("VPP_HUB_ALERT_TARGETS", '[{"name": "x", "url": "ftp://nope"}]')
    with pytest.raises(msgspec.ValidationError, match="url"):
        Settings.from_env()


async def test_notify_from_the_running_hub_reaches_the_receiver(
    receiver: Receiver, tmp_path: Any
) -> None:
    settings = Settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_url=None,
        jwt_secret="x" * 32,
        alert_targets=(target(receiver, kind="dingtalk"),),
    )
    app: Litestar = create_app(settings)
    async with asyncio.timeout(SAFETY_TIMEOUT * 4), AsyncTestClient(app=app):
        ctx = app.state.hub
        alert = Alert(name="LingtanEdgeOffline", summary="edge acme/park-a is offline",
                      labels={"tenant": "acme", "edge": "park-a"})  # fmt: skip
        assert notify(ctx, alert) == 1
        await wait_until(lambda: _async(len(receiver.got) == 1))
    text = receiver.got[0][1]["markdown"]["text"]
    assert "[FIRING] LingtanEdgeOffline" in text
    assert "edge=park-a" in text


async def test_notify_without_targets_only_logs(tmp_path: Any) -> None:
    settings = Settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_url=None, jwt_secret="x" * 32
    )
    app: Litestar = create_app(settings)
    async with asyncio.timeout(SAFETY_TIMEOUT * 4), AsyncTestClient(app=app):
        assert notify(app.state.hub, sample()) == 0


ALERTMANAGER_BODY = {
    "version": "4",
    "status": "firing",
    "receiver": "oncall",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "LingtanAckStall", "severity": "critical"},
            "annotations": {"summary": "Telemetry arrives but the hub acknowledges none of it"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
    ],
}


async def test_the_relay_turns_alertmanager_webhooks_into_robot_messages(
    receiver: Receiver,
) -> None:
    settings = Settings(
        mqtt_url=None, alert_targets=(target(receiver, "wecom-oncall", kind="wecom"),)
    )
    app = create_relay(settings, token="relay-token")
    headers = {"Authorization": "Bearer relay-token"}
    async with asyncio.timeout(SAFETY_TIMEOUT * 2), AsyncTestClient(app=app) as client:
        refused = await client.post("/alertmanager/wecom-oncall", json=ALERTMANAGER_BODY)
        assert refused.status_code == 401
        unknown = await client.post("/alertmanager/nobody", json=ALERTMANAGER_BODY, headers=headers)
        assert unknown.status_code == 404
        bad = await client.post("/alertmanager/wecom-oncall", json={"alerts": 3}, headers=headers)
        assert bad.status_code == 400
        response = await client.post(
            "/alertmanager/wecom-oncall", json=ALERTMANAGER_BODY, headers=headers
        )
        assert response.status_code == 202
        assert response.json() == {"queued": 1}
        await wait_until(lambda: _async(len(receiver.got) == 1))
        health = await client.get("/healthz")
        assert health.json()["targets"] == ["wecom-oncall"]
    content = receiver.got[0][1]["markdown"]["content"]
    assert "[FIRING] LingtanAckStall" in content
    assert "2026-01-01 08:00:00 CST" in content


async def _async(value: bool) -> bool:
    return value


async def test_a_tripped_breaker_reaches_the_alert_targets(
    receiver: Receiver, tmp_path: Any
) -> None:
    """The trading breaker's alert hook, as the running hub wires it, notifies the targets."""
    import datetime as dt

    from hub.trading import BreakerAlert, TradingRuntime

    trading = TradingRuntime()
    settings = Settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_url=None,
        jwt_secret="x" * 32,
        alert_targets=(target(receiver, kind="wecom"),),
    )
    app: Litestar = create_app(settings, trading=trading)
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with asyncio.timeout(SAFETY_TIMEOUT * 4), AsyncTestClient(app=app):
        trip = BreakerAlert(
            vpp_id="vpp-1", event="trip", trigger="loss", reason="loss over limit", at=at,
            actor="trading-loop", safe_dispatch="12 slots held at 0 kW",
        )  # fmt: skip
        assert await trading.alert(trip) == []
        await wait_until(lambda: _async(len(receiver.got) == 1))
        reset = msgspec.structs.replace(trip, event="reset", reason="checked", actor="trader-1")
        assert await trading.alert(reset) == []
        await wait_until(lambda: _async(len(receiver.got) == 2))
    assert trading.alert_hooks == [], "the hook leaves with the app's lifespan"
    fired, resolved = (body["markdown"]["content"] for _, body in receiver.got)
    assert "[FIRING] LingtanTradingBreakerTripped" in fired
    assert "loss over limit" in fired
    assert "12 slots held at 0 kW" in fired
    assert "[RESOLVED] LingtanTradingBreakerTripped" in resolved
    assert "trader-1" in resolved
