"""Operations: ``/healthz``, ``/readyz``, ``/metrics``, and the hub's own alerts.

Pure (loaded eagerly): :class:`Alert` and the bodies of the receivers (generic JSON in
Alertmanager's shape, WeCom and DingTalk group robots). The controller, the notifier
(:func:`notify`, :class:`Notifier`) and the alert relay (``python -m hub.ops.relay``)
load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._alert_bodies import (
    Alert,
    AlertmanagerPayload,
    body_for,
    dingtalk_body,
    from_alertmanager,
    generic_body,
    wecom_body,
)

if TYPE_CHECKING:
    from ._alerts import Notifier, breaker_alert, breaker_alerts, breaker_hook, notify
    from ._controller import OpsController
    from ._fleet import FleetGauges, fleet_gauges

_LAZY = {
    "OpsController": "._controller",
    "Notifier": "._alerts",
    "notify": "._alerts",
    "breaker_alert": "._alerts",
    "breaker_alerts": "._alerts",
    "breaker_hook": "._alerts",
    "FleetGauges": "._fleet",
    "fleet_gauges": "._fleet",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Alert",
    "AlertmanagerPayload",
    "FleetGauges",
    "Notifier",
    "OpsController",
    "body_for",
    "breaker_alert",
    "breaker_alerts",
    "breaker_hook",
    "dingtalk_body",
    "fleet_gauges",
    "from_alertmanager",
    "generic_body",
    "notify",
    "wecom_body",
]
