"""The strategy configuration schema (seed 4.2.1 ``config``): rules, model and optimiser.

A rule is ``{name?, priority, enabled, conditions[], actions[]}``. ``conditions`` are
ANDed; each is a comparison ``{field, operator, value}`` (the seed's shape) or a group
``{operator: "and"|"or", conditions: [...]}`` / ``{operator: "not", condition: {...}}``.
The operator is the tag of the union, so each operator has its own Struct with the fields
it applies to and the value shape it needs (``between`` takes two bounds, ``in`` a list).
Actions are ``{type, parameters}`` tagged by ``type``.

Units: prices in yuan/MWh, power in kW, SoC in %, frequency in Hz, temperatures in °C,
time of day as ``"HH:MM"`` (the start of the delivery slot, local market time).
"""

from __future__ import annotations

from typing import Annotated, Literal, assert_never

import msgspec
from msgspec import Meta

SLOTS_PER_DAY = 96
SLOT_MINUTES = 15

ContinuousField = Literal[
    "price",
    "price_forecast",
    "soc",
    "available_up",
    "available_down",
    "load",
    "pv_forecast",
    "frequency",
]
"""Measured or forecast quantities: every comparison and ``crosses_*`` fit them."""
OrderedField = Literal[
    "price",
    "price_forecast",
    "soc",
    "available_up",
    "available_down",
    "load",
    "pv_forecast",
    "frequency",
    "time_of_day",
    "slot",
]
"""Fields with an order: ``> >= < <= between``."""
AnyField = Literal[
    "price",
    "price_forecast",
    "soc",
    "available_up",
    "available_down",
    "load",
    "pv_forecast",
    "frequency",
    "time_of_day",
    "slot",
    "day_type",
]
"""Every field: ``== !=``."""
SetField = Literal["day_type", "slot"]
"""Discrete fields: ``in``."""
DayType = Literal["workday", "weekend", "holiday"]

Scalar = float | str
"""A number, ``"HH:MM"`` for time_of_day, or a day type; checked against the field."""


class _Condition(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="operator"
):
    pass


class Greater(_Condition, frozen=True, tag=">"):
    field: OrderedField
    value: Scalar


class GreaterEqual(_Condition, frozen=True, tag=">="):
    field: OrderedField
    value: Scalar


class Less(_Condition, frozen=True, tag="<"):
    field: OrderedField
    value: Scalar


class LessEqual(_Condition, frozen=True, tag="<="):
    field: OrderedField
    value: Scalar


class Equal(_Condition, frozen=True, tag="=="):
    field: AnyField
    value: Scalar


class NotEqual(_Condition, frozen=True, tag="!="):
    field: AnyField
    value: Scalar


class Between(_Condition, frozen=True, tag="between"):
    """Numbers: ``low <= v <= high``. time_of_day: the window ``[low, high)``, which wraps
    past midnight when ``low > high`` (``["22:00", "06:00"]``)."""

    field: OrderedField
    value: tuple[Scalar, Scalar]


class In(_Condition, frozen=True, tag="in"):
    field: SetField
    value: Annotated[list[Scalar], Meta(min_length=1, max_length=SLOTS_PER_DAY)]


class CrossesAbove(_Condition, frozen=True, tag="crosses_above"):
    """The previous known value was ``<= value`` and the current one is ``> value``."""

    field: ContinuousField
    value: float


class CrossesBelow(_Condition, frozen=True, tag="crosses_below"):
    """The previous known value was ``>= value`` and the current one is ``< value``."""

    field: ContinuousField
    value: float


class AllOf(_Condition, frozen=True, tag="and"):
    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=50)]


class AnyOf(_Condition, frozen=True, tag="or"):
    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=50)]


class Not(_Condition, frozen=True, tag="not"):
    condition: Condition


Comparison = (
    Greater
    | GreaterEqual
    | Less
    | LessEqual
    | Equal
    | NotEqual
    | Between
    | In
    | CrossesAbove
    | CrossesBelow
)
Condition = (
    Greater
    | GreaterEqual
    | Less
    | LessEqual
    | Equal
    | NotEqual
    | Between
    | In
    | CrossesAbove
    | CrossesBelow
    | AllOf
    | AnyOf
    | Not
)

# ------------------------------------------------------------------------------ actions

Power = Annotated[float, Meta(gt=0, le=1e7)]
SlotIndex = Annotated[int, Meta(ge=0, lt=SLOTS_PER_DAY)]


class _Parameters(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class BidParameters(_Parameters, frozen=True, kw_only=True):
    side: Literal["sell", "buy"] = "sell"
    quantity_kw: Power | Literal["available"]
    """kW over the slot; ``"available"`` = the VPP's available up (sell) or down (buy)
    capacity at gate closure."""
    price_yuan_mwh: Annotated[float, Meta(ge=-1e5, le=1e5)] | None = None
    """Limit price; ``None`` in a quantity-only market (报量不报价)."""
    slots: Annotated[list[SlotIndex], Meta(min_length=1, max_length=SLOTS_PER_DAY)] | None = None
    """Slots of the day (0..95) the bid may be placed in; ``None`` = any slot."""


class PowerParameters(_Parameters, frozen=True):
    power_kw: Power
    """Clamped to the available down (charge) or up (discharge) capacity when known."""


class CurtailParameters(_Parameters, frozen=True):
    max_kw: Annotated[float, Meta(ge=0, le=1e7)]
    """PV output of the VPP is capped at this for the slot."""


class ShiftEvParameters(_Parameters, frozen=True):
    max_kw: Annotated[float, Meta(ge=0, le=1e7)]
    """EV charging of the VPP is capped at this for the slot (0 = defer all); the
    deferred energy is charged later in each session's window."""


class HvacOffsetParameters(_Parameters, frozen=True):
    offset_c: Annotated[float, Meta(ge=-10, le=10)]
    """Added to the HVAC setpoint; the result is kept within the comfort band."""


class NotifyParameters(_Parameters, frozen=True):
    message: Annotated[str, Meta(min_length=1, max_length=500)]
    level: Literal["info", "warning", "critical"] = "info"


class _Action(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    pass


class BidAction(_Action, frozen=True, tag="bid"):
    parameters: BidParameters


class ChargeAction(_Action, frozen=True, tag="charge"):
    parameters: PowerParameters


class DischargeAction(_Action, frozen=True, tag="discharge"):
    parameters: PowerParameters


class CurtailPvAction(_Action, frozen=True, tag="curtail_pv"):
    parameters: CurtailParameters


class ShiftEvAction(_Action, frozen=True, tag="shift_ev"):
    parameters: ShiftEvParameters


class HvacOffsetAction(_Action, frozen=True, tag="offset_hvac"):
    parameters: HvacOffsetParameters


class NotifyAction(_Action, frozen=True, tag="notify"):
    parameters: NotifyParameters


Action = (
    BidAction
    | ChargeAction
    | DischargeAction
    | CurtailPvAction
    | ShiftEvAction
    | HvacOffsetAction
    | NotifyAction
)

Channel = Literal["bid", "battery", "pv", "ev", "hvac", "notify"]
"""What an action sets in a slot; one rule wins each channel except ``notify``."""


def channel_of(action: Action) -> Channel:
    """The channel an action claims."""
    match action:
        case BidAction():
            return "bid"
        case ChargeAction() | DischargeAction():
            return "battery"
        case CurtailPvAction():
            return "pv"
        case ShiftEvAction():
            return "ev"
        case HvacOffsetAction():
            return "hvac"
        case NotifyAction():
            return "notify"
        case _:
            assert_never(action)


# -------------------------------------------------------------------------- strategy


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    priority: Annotated[int, Meta(ge=-1000, le=1000)] = 0
    """Higher first; equal priorities keep list order."""
    enabled: bool = True
    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=50)]
    """All must hold (AND)."""
    actions: Annotated[list[Action], Meta(min_length=1, max_length=20)]


class ModelConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Seed 4.2.1 ``model_config`` of an AI_DRIVEN strategy."""

    model_type: Annotated[str, Meta(min_length=1, max_length=100)]
    model_version: Annotated[str, Meta(min_length=1, max_length=50)]
    input_features: list[Annotated[str, Meta(min_length=1, max_length=100)]] = []
    output_targets: list[Annotated[str, Meta(min_length=1, max_length=100)]] = []


class OptimiserConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How AI_DRIVEN / HYBRID strategies plan the day."""

    risk_weight: Annotated[float, Meta(ge=0, le=100)] = 0.0
    """λ in ``max E[revenue] - λ·CVaR_α(loss)``; 0 = risk neutral."""
    cvar_alpha: Annotated[float, Meta(gt=0, lt=1)] = 0.95


class StrategyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``config`` object of a trading strategy."""

    rules: Annotated[list[Rule], Meta(max_length=200)] = []
    model_config: ModelConfig | None = None
    optimiser: OptimiserConfig | None = None
