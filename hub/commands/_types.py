"""Commands to one device of one edge (pure): the actions, their arguments in the REST
body's units (kW, kWh, ISO 8601 times) turned into the agent's wire arguments (W, Wh,
ms since the epoch), and the outcomes of sending one.

>>> import datetime as dt
>>> now_ms = 1_700_000_000_000
>>> departure = dt.datetime.fromtimestamp(now_ms / 1000 + 3600, dt.UTC).isoformat()
>>> wire_args("ev_session", {"energy_kwh": 11, "departure_time": departure}, now_ms)
{'energy_wh': 11000.0, 'departure_ts_ms': 1700003600000}
>>> wire_args("ev_session", {"energy_kwh": 0, "departure_time": departure}, now_ms)
Traceback (most recent call last):
...
hub.commands._types.ArgsError: args.energy_kwh: Expected `float` > 0.0
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol import Command, Reply

Action = Literal["ping", "read", "set_power", "release", "ev_session", "ev_session_end"]
ArgValue = float | int | bool | str

MAX_SESSION_KWH: Final = 500.0
"""The most energy one EV session may ask for (the agent's bound too)."""
MAX_SESSION_AHEAD: Final = dt.timedelta(days=7)
"""The latest departure an EV session may name (the agent's bound too)."""


class _Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Arguments of one action: unknown names are refused (a typo must not pass)."""


class NoArgs(_Args, frozen=True):
    """``ping``, ``read``, ``release``, ``ev_session_end``: no arguments."""


class SetPowerArgs(_Args, frozen=True):
    """``set_power``: a manual setpoint (kW, generator convention: discharge > 0), in
    force until the command expires, within the edge's SafetyGuard."""

    power_kw: Annotated[float, Meta(ge=-1e6, le=1e6)]


class EvSessionArgs(_Args, frozen=True):
    """``ev_session``: deliver ``energy_kwh`` by ``departure_time`` (a charger)."""

    energy_kwh: Annotated[float, Meta(gt=0, le=MAX_SESSION_KWH)]
    departure_time: dt.datetime
    """With a UTC offset; in the future, at most 7 days ahead."""
    max_power_kw: Annotated[float, Meta(gt=0, le=1e4)] | None = None
    """The most the car draws (its on-board charger), when below the charger's rating:
    the session plans with it, so it starts charging early enough."""


ARGS: Final[dict[Action, type[_Args]]] = {
    "ping": NoArgs,
    "read": NoArgs,
    "set_power": SetPowerArgs,
    "release": NoArgs,
    "ev_session": EvSessionArgs,
    "ev_session_end": NoArgs,
}

WIRE_NAMES: Final = {
    "p_w": "power_kw",
    "energy_wh": "energy_kwh",
    "departure_ts_ms": "departure_time",
    "max_power_w": "max_power_kw",
}
"""The agent's argument names and the REST body's (for the fields its refusals name)."""


class ArgsError(ValueError):
    """An argument that does not fit its action; ``field`` names it (``args.x``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_UNKNOWN = re.compile(r"unknown field `(?P<name>[^`]+)`")


def _args_error(exc: msgspec.ValidationError) -> ArgsError:
    text = str(exc)
    unknown = _UNKNOWN.search(text)
    if unknown is not None:
        return ArgsError(f"args.{unknown['name']}", "unknown argument for this action")
    found = _AT.match(text)
    assert found is not None  # the pattern matches any text
    path = (found["path"] or "").lstrip(".")
    missing = re.search(r"missing required field `([^`]+)`", text)
    if missing is not None:
        path = missing.group(1)
    return ArgsError(f"args.{path}" if path else "args", found["message"])


def wire_args(action: Action, args: dict[str, object], now_ms: int) -> dict[str, ArgValue]:
    """The agent's arguments for ``action``; :class:`ArgsError` names a bad one."""
    try:
        parsed = msgspec.convert(args, type=ARGS[action])
    except msgspec.ValidationError as exc:
        raise _args_error(exc) from None
    match parsed:
        case SetPowerArgs(power_kw=power):
            return {"p_w": power * 1000}
        case EvSessionArgs(energy_kwh=energy, departure_time=departure, max_power_kw=max_kw):
            if departure.tzinfo is None:
                raise ArgsError("args.departure_time", "needs a UTC offset (for example Z)")
            departure_ms = int(departure.timestamp() * 1000)
            if departure_ms <= now_ms:
                raise ArgsError("args.departure_time", "must be in the future")
            if departure_ms > now_ms + MAX_SESSION_AHEAD.total_seconds() * 1000:
                raise ArgsError("args.departure_time", "must be at most 7 days ahead")
            out: dict[str, ArgValue] = {"energy_wh": energy * 1000, "departure_ts_ms": departure_ms}
            if max_kw is not None:
                out["max_power_w"] = max_kw * 1000
            return out
        case _:
            return {}


def rest_field(message: str) -> str | None:
    """The REST name of the argument an agent's refusal names (``args.energy_wh must...``).

    >>> rest_field("args.energy_wh must be > 0 and <= 500000")
    'args.energy_kwh'
    >>> rest_field("device 'x' does not match the topic") is None
    True
    """
    found = re.search(r"\bargs\.([A-Za-z_][A-Za-z0-9_]*)", message)
    if found is None:
        return None
    return f"args.{WIRE_NAMES.get(found.group(1), found.group(1))}"


@dataclass(frozen=True, slots=True)
class Replied:
    """The agent answered (``reply.ok`` says whether it did what was asked)."""

    command: Command
    reply: Reply


@dataclass(frozen=True, slots=True)
class NoReply:
    """No reply before the deadline; the command expires (``command.expires_ts_ms``), so
    an agent that gets it later does not execute it."""

    command: Command


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Not sent (or not known to be sent): no broker connection, too many pending."""

    reason: str
    command: Command | None = None


CommandOutcome = Replied | NoReply | Unavailable


__all__ = [
    "ARGS",
    "MAX_SESSION_AHEAD",
    "MAX_SESSION_KWH",
    "Action",
    "ArgValue",
    "ArgsError",
    "CommandOutcome",
    "EvSessionArgs",
    "NoArgs",
    "NoReply",
    "Replied",
    "SetPowerArgs",
    "Unavailable",
    "rest_field",
    "wire_args",
]
