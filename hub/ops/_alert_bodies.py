"""Alerts and the bodies receivers want (pure: no I/O, no clock).

One :class:`Alert` type for the hub's own alerts (a tripped breaker, an edge offline) and
for Prometheus' alerts relayed from Alertmanager (:func:`from_alertmanager`), and one
function per receiver shape:

* :func:`generic_body`: Alertmanager's own webhook JSON (``version: "4"``), so a receiver
  written for Alertmanager takes the hub's alerts unchanged.
* :func:`wecom_body`: a WeCom (企业微信) group robot's markdown message,
  ``{"msgtype": "markdown", "markdown": {"content": ...}}`` (at most 4096 bytes).
* :func:`dingtalk_body`: a DingTalk (钉钉) group robot's markdown message,
  ``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}, "at": {...}}``.

>>> alert = Alert(name="LingtanEdgeOffline", severity="warning", summary="park-a offline",
...               labels={"tenant": "acme", "edge": "park-a"}, starts_at_ms=0)
>>> wecom_body([alert])["markdown"]["content"].splitlines()[0]
'**<font color="warning">[FIRING] LingtanEdgeOffline</font>** park-a offline'
>>> generic_body([alert])["alerts"][0]["labels"]["alertname"]
'LingtanEdgeOffline'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import msgspec

Severity = Literal["info", "warning", "critical"]
Status = Literal["firing", "resolved"]
TargetKind = Literal["webhook", "wecom", "dingtalk"]

SEVERITY_RANK: Final[dict[str, int]] = {"info": 0, "warning": 1, "critical": 2}
WECOM_MAX_BYTES: Final = 4096
"""WeCom refuses a markdown ``content`` longer than 4096 bytes (UTF-8)."""
DINGTALK_MAX_BYTES: Final = 18_000
"""DingTalk's limit is near 20,000 bytes; stay below it."""
SOURCE: Final = "lingtan-hub"


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One alert. ``name`` is the alert's kind (``LingtanTradingBreakerTripped``);
    ``labels`` say which thing (tenant, edge, vpp); ``starts_at_ms`` is set by
    :func:`hub.ops.notify` from the hub's clock when left None."""

    name: str
    summary: str
    severity: Severity = "warning"
    description: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    status: Status = "firing"
    starts_at_ms: int | None = None
    ends_at_ms: int | None = None
    source: str = SOURCE


def severity_at_least(alert: Alert, minimum: str) -> bool:
    """Whether ``alert`` is at least as severe as ``minimum`` (unknown counts as warning).

    >>> severity_at_least(Alert(name="a", summary="", severity="critical"), "warning")
    True
    >>> severity_at_least(Alert(name="a", summary="", severity="info"), "warning")
    False
    """
    return SEVERITY_RANK.get(alert.severity, 1) >= SEVERITY_RANK.get(minimum, 1)


def _iso(ms: int | None) -> str:
    if ms is None:
        return "0001-01-01T00:00:00Z"  # Alertmanager's "not set"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(ms: int | None) -> str:
    """A short China Standard Time stamp for chat messages (operators read local time)."""
    if ms is None:
        return ""
    cst = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime.fromtimestamp(ms / 1000, tz=cst).strftime("%Y-%m-%d %H:%M:%S CST")


def _status(alerts: Sequence[Alert]) -> Status:
    return "firing" if any(a.status == "firing" for a in alerts) else "resolved"


def generic_body(alerts: Sequence[Alert], *, receiver: str = "lingtan-hub") -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) for ``alerts``."""
    items: list[dict[str, Any]] = []
    label_sets: list[dict[str, str]] = []
    for alert in alerts:
        labels = {"alertname": alert.name, "severity": alert.severity, **alert.labels}
        label_sets.append(labels)
        items.append(
            {
                "status": alert.status,
                "labels": labels,
                "annotations": {"summary": alert.summary, "description": alert.description},
                "startsAt": _iso(alert.starts_at_ms),
                "endsAt": _iso(alert.ends_at_ms),
                "generatorURL": "",
                "fingerprint": _fingerprint(labels),
            }
        )
    common = _common_labels(label_sets)
    return {
        "version": "4",
        "groupKey": f"{SOURCE}:" + ",".join(f"{k}={v}" for k, v in sorted(common.items())),
        "truncatedAlerts": 0,
        "status": _status(alerts),
        "receiver": receiver,
        "groupLabels": {"alertname": common["alertname"]} if "alertname" in common else {},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": items,
    }


def _common_labels(label_sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not label_sets:
        return {}
    first = dict(label_sets[0])
    return {k: v for k, v in first.items() if all(s.get(k) == v for s in label_sets[1:])}


def _fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id of the label set (FNV-1a 64, as good as Alertmanager's)."""
    value = 0xCBF29CE484222325
    for key in sorted(labels):
        for byte in f"{key}\xff{labels[key]}\xff".encode():
            value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def _label_text(alert: Alert) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))


def _markdown_lines(alert: Alert, *, wecom: bool) -> list[str]:
    state = "FIRING" if alert.status == "firing" else "RESOLVED"
    title = f"[{state}] {alert.name}"
    if wecom:
        # WeCom markdown knows three font colours: info (green), comment (grey), warning
        # (orange-red).
        colour = "info" if alert.status == "resolved" else "warning"
        head = f'**<font color="{colour}">{title}</font>** {alert.summary}'
    else:
        head = f"**{title}** {alert.summary}"
    lines = [head]
    if alert.description:
        lines.append(f"> {alert.description}")
    meta = [f"severity: {alert.severity}"]
    if alert.labels:
        meta.append(_label_text(alert))
    stamp = _local(alert.ends_at_ms if alert.status == "resolved" else alert.starts_at_ms)
    if stamp:
        meta.append(stamp)
    lines.append(" | ".join(meta) if wecom else "- " + "\n- ".join(meta))
    return lines


def _fit(blocks: list[str], limit: int, separator: str) -> str:
    """Join as many ``blocks`` as fit in ``limit`` UTF-8 bytes, saying how many were left."""
    kept: list[str] = []
    for index, block in enumerate(blocks):
        left = len(blocks) - index - 1
        tail = f"{separator}... and {left} more" if left else ""
        if len((separator.join([*kept, block]) + tail).encode()) <= limit:
            kept.append(block)
            continue
        more = f"... and {len(blocks) - index} more"
        if not kept:  # the first block alone is too long: cut it
            room = limit - len((separator + more).encode()) if left else limit
            return _cut(block, room) + (separator + f"... and {left} more" if left else "")
        return separator.join(kept) + separator + more
    return separator.join(kept)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes with an ellipsis (never inside a character)."""
    if len(text.encode()) <= limit:
        return text
    data = text.encode()[: max(0, limit - 3)]
    return data.decode(errors="ignore") + "..."


def wecom_body(alerts: Sequence[Alert], *, mention: Sequence[str] = ()) -> dict[str, Any]:
    """A WeCom group robot's markdown message for ``alerts`` (within 4096 bytes).

    ``mention``: WeCom user ids to remind (``<@userid>``) when something is firing.
    """
    blocks = ["\n".join(_markdown_lines(a, wecom=True)) for a in alerts]
    reminder = " ".join(f"<@{user}>" for user in mention) if _status(alerts) == "firing" else ""
    return {
        "msgtype": "markdown",
        "markdown": {"content": _with(blocks, reminder, WECOM_MAX_BYTES)},
    }


def _with(blocks: list[str], reminder: str, limit: int) -> str:
    """The blocks that fit, then ``reminder`` (the @-mentions), which is never cut off."""
    if not reminder:
        return _fit(blocks, limit, "\n\n")
    room = limit - len(("\n\n" + reminder).encode())
    return _fit(blocks, room, "\n\n") + "\n\n" + reminder


def dingtalk_body(alerts: Sequence[Alert], *, mention: Sequence[str] = ()) -> dict[str, Any]:
    """A DingTalk group robot's markdown message for ``alerts``.

    ``mention``: mobile numbers to @ when something is firing (DingTalk needs them both in
    ``at.atMobiles`` and as ``@mobile`` in the text).
    """
    firing = _status(alerts) == "firing"
    first = alerts[0] if alerts else Alert(name="alert", summary="")
    title = f"[{'FIRING' if firing else 'RESOLVED'}] {first.name}"
    if len(alerts) > 1:
        title += f" (+{len(alerts) - 1})"
    blocks = [f"### {title}", *("\n".join(_markdown_lines(a, wecom=False)) for a in alerts)]
    mobiles = list(mention) if firing else []
    reminder = " ".join(f"@{m}" for m in mobiles)
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": _with(blocks, reminder, DINGTALK_MAX_BYTES)},
        "at": {"atMobiles": mobiles, "isAtAll": False},
    }


def body_for(kind: str, alerts: Sequence[Alert], *, mention: Sequence[str] = ()) -> dict[str, Any]:
    """The body a target of ``kind`` (``webhook``, ``wecom``, ``dingtalk``) takes."""
    if kind == "wecom":
        return wecom_body(alerts, mention=mention)
    if kind == "dingtalk":
        return dingtalk_body(alerts, mention=mention)
    return generic_body(alerts)


class AlertmanagerAlert(msgspec.Struct, kw_only=True):
    status: str = "firing"
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    startsAt: str | None = None  # noqa: N815 - Alertmanager's field names
    endsAt: str | None = None  # noqa: N815


class AlertmanagerPayload(msgspec.Struct, kw_only=True):
    """The part of Alertmanager's webhook body (version 4) the relay reads."""

    alerts: list[AlertmanagerAlert]
    status: str = "firing"
    receiver: str = ""


def _ms(stamp: str | None) -> int | None:
    if not stamp or stamp.startswith("0001-"):
        return None
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def from_alertmanager(payload: AlertmanagerPayload) -> list[Alert]:
    """The alerts of one Alertmanager notification, as :class:`Alert` values.

    >>> body = {"alerts": [{"status": "firing", "labels": {"alertname": "LingtanAckStall",
    ...          "severity": "critical"}, "annotations": {"summary": "no acks"}}]}
    >>> [a.name for a in from_alertmanager(msgspec.convert(body, AlertmanagerPayload))]
    ['LingtanAckStall']
    """
    alerts = []
    for item in payload.alerts:
        labels = dict(item.labels)
        name = labels.pop("alertname", "alert")
        severity = labels.pop("severity", "warning")
        alerts.append(
            Alert(
                name=name,
                severity=severity if severity in SEVERITY_RANK else "warning",  # type: ignore[arg-type]
                summary=item.annotations.get("summary", name),
                description=item.annotations.get("description", ""),
                labels=labels,
                status="resolved" if item.status == "resolved" else "firing",
                starts_at_ms=_ms(item.startsAt),
                ends_at_ms=_ms(item.endsAt),
                source="alertmanager",
            )
        )
    return alerts


__all__ = [
    "Alert",
    "AlertmanagerPayload",
    "Severity",
    "TargetKind",
    "body_for",
    "dingtalk_body",
    "from_alertmanager",
    "generic_body",
    "severity_at_least",
    "wecom_body",
]
