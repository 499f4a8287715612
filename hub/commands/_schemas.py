"""REST bodies of ``.../commands``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from msgspec import Meta

from hub._dto import In, Out

from ._types import Action, ArgValue

TimeoutS = Annotated[float, Meta(ge=0.5, le=60)]


class CommandIn(In):
    """One command to one device.

    ``args`` by action (REST units; 422 names an argument that does not fit):

    * ``ping``, ``read``, ``release``, ``ev_session_end``: none;
    * ``set_power``: ``power_kw`` (generator convention: discharge > 0, charge < 0), in
      force until the command expires, within the edge's SafetyGuard;
    * ``ev_session`` (an EV charger): ``energy_kwh`` (> 0, at most 500) by
      ``departure_time`` (ISO 8601 with an offset, in the future, at most 7 days ahead),
      ``max_power_kw`` optional (what the car draws at most: the session plans with it).
    """

    action: Action
    args: Annotated[dict[str, Any], Meta(max_length=16)] = {}
    timeout_s: TimeoutS = 10.0
    """How long the hub waits for the agent's reply (the command expires at the edge up
    to one second before, so a late agent does not act on it)."""


class CommandOut(Out):
    """What the agent answered: ``ok``, its ``code`` and ``message``, and ``result`` (the
    agent's values, in its units: W, Wh, ms since the epoch)."""

    cid: str
    action: Action
    edge_id: str
    device_id: str
    ok: bool
    code: str
    message: str
    result: dict[str, ArgValue]
    sent_at: dt.datetime
    expires_at: dt.datetime
    replied_at: dt.datetime
    """The reply's time, on the edge's clock."""


__all__ = ["CommandIn", "CommandOut"]
