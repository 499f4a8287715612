"""Per-device status for ``/healthz`` and ``vpp agent status`` (pure: no I/O).

For each device: its state, how old its last reading is, its error counts by kind, and the
setpoint in force with its source. The setpoint is what the device holds (the value of the
last write that returned), never what was only decided; its source is the layer that set
it: ``manual``, ``schedule`` (hub dispatch), ``default`` (the site's default control),
``watchdog`` (a watchdog ended the hub's instruction: default control), ``safety`` when
the SafetyGuard narrowed the request (``requested_by`` then names the layer it narrowed), or
``ev_session`` when a charging session's energy target lifted a cap. A charger with a
session also shows it (target, delivered, departure).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, assert_never

from ._control import Decision
from ._device import DeviceRunner
from ._safety import Applied, Clamped, Rejected
from ._sessions import EvSession


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def device_status(
    runners: Mapping[str, DeviceRunner],
    decisions: Iterable[Decision],
    now_s: float,
    sessions: Mapping[str, EvSession] | None = None,
) -> dict[str, dict[str, Any]]:
    """``{device: {...}}`` for ``/healthz`` (JSON-ready)."""
    sessions = sessions or {}
    by_device = {d.device: d for d in decisions}
    out: dict[str, dict[str, Any]] = {}
    for dev, runner in runners.items():
        reading = runner.reading
        age = None if runner.reading_ts is None else max(0.0, now_s - runner.reading_ts)
        doc: dict[str, Any] = {
            "kind": runner.config.kind,
            "protocol": runner.config.protocol,
            "state": runner.status.value,
            "last_value_age_s": _round(age),
            "p_w": _round(reading.p_w) if reading is not None else None,
            "errors": dict(runner.errors),
            "last_error": runner.last_error or None,
            "setpoint_w": _round(runner.applied.p_w) if runner.applied is not None else None,
            "revert_s": runner.applied.revert_s if runner.applied is not None else None,
            "source": None,
            "requested_by": None,
            "requested_w": None,
            "reason": None,
        }
        decision = by_device.get(dev)
        if decision is not None:
            doc["requested_by"] = decision.source
            doc["requested_w"] = _round(decision.requested_w)
            match decision.result:
                case Applied():
                    doc["source"] = decision.source
                case Clamped(reason="ev_session"):
                    doc["source"] = "ev_session"  # the session's floor lifted the cap
                    doc["reason"] = "ev_session"
                case Clamped(reason=reason):
                    doc["source"] = "safety"
                    doc["reason"] = reason
                case Rejected(reason=reason):
                    doc["source"] = "safety"
                    doc["reason"] = reason
                case _ as unreachable:
                    assert_never(unreachable)
        session = sessions.get(dev)
        if session is not None:
            doc["session"] = {
                "energy_wh": _round(session.energy_wh),
                "delivered_wh": _round(session.delivered_wh),
                "departure_ts_ms": session.departure_ms,
            }
            if session.max_w is not None:
                doc["session"]["max_power_w"] = _round(session.max_w)
        out[dev] = doc
    return out


def status_rows(detail: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Table rows of ``vpp agent status`` from ``/healthz``'s ``device_status``."""
    rows: list[tuple[str, ...]] = []
    for dev, doc in detail.items():
        age = doc.get("last_value_age_s")
        errors = doc.get("errors") or {}
        setpoint = doc.get("setpoint_w")
        source = doc.get("source") or "-"
        if source == "safety" and doc.get("requested_by"):
            source = f"safety ({doc.get('reason')}) over {doc['requested_by']}"
        rows.append(
            (
                dev,
                str(doc.get("kind", "")),
                str(doc.get("state", "")),
                "-" if age is None else f"{age:.1f} s",
                "-" if doc.get("p_w") is None else f"{doc['p_w']:,.0f} W",
                ", ".join(f"{k} {n}" for k, n in sorted(errors.items())) or "0",
                "-" if setpoint is None else f"{setpoint:,.0f} W",
                str(source),
            )
        )
    return rows


__all__ = ["device_status", "status_rows"]
