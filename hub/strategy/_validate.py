"""Validation of a strategy ``config`` on save: every problem, each with its path.

Two passes, each reporting everything it finds:

1. structure and values: the JSON is walked element by element (rules, conditions,
   groups, actions); each leaf is decoded with msgspec on its own, so one bad condition
   does not hide the next. Unknown fields, wrong types, empty groups, unknown operators,
   operators that do not fit their field, and values of the wrong kind for their field (a
   string for ``price``, ``"25:00"`` for ``time_of_day``, ``between`` bounds in the wrong
   order) are found here.
2. reachability, once the config is well formed (enabled rules only): conditions that
   can never hold together, bid slots in which the conditions never hold, a second
   action on a channel the same rule already set, and actions on a channel that a
   higher-ranked rule with the same conditions always sets first.

Paths read like ``rules[2].conditions[0].value``; the empty path is the config itself.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Literal, get_args

import msgspec

from ._rules import (
    SLOTS_PER_DAY,
    Action,
    Between,
    BidAction,
    Comparison,
    ContinuousField,
    Equal,
    In,
    NotEqual,
    Rule,
    StrategyConfig,
    channel_of,
)
from ._sat import DAY_TYPES, can_hold, minutes

StrategyType = Literal["RULE_BASED", "AI_DRIVEN", "HYBRID"]

MAX_DEPTH = 8
_CONDITION_TYPES: dict[str, type[msgspec.Struct]] = {
    msgspec.inspect.type_info(t).tag: t  # type: ignore[attr-defined]
    for t in get_args(Comparison)
}
_GROUPS = ("and", "or", "not")
_NUMERIC = frozenset([*get_args(ContinuousField), "slot"])


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with a config, where it is."""

    path: str
    message: str


class ConfigError(ValueError):
    """A strategy config was refused; :attr:`problems` lists every reason with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path or '<config>'}: {p.message}" for p in problems))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(raw: object) -> str:  # noqa: PLR0911
    match raw:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
        case _:
            return type(raw).__name__


class _Walker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def convert(self, raw: object, typ: object, path: str) -> object:
        try:
            return msgspec.convert(raw, typ)
        except msgspec.ValidationError as exc:
            message, sep, where = str(exc).partition(" - at `$")
            self.add(path + where.rstrip("`") if sep else path, message)
            return None

    def obj(
        self, raw: object, path: str, allowed: set[str], required: set[str]
    ) -> dict[str, object] | None:
        if not isinstance(raw, dict):
            self.add(path, f"expected an object, got {_kind(raw)}")
            return None
        for key in raw:
            if key not in allowed:
                self.add(_join(path, key), f"unknown field; expected one of {sorted(allowed)}")
        for key in sorted(required - raw.keys()):
            self.add(_join(path, key), "required field missing")
        return raw

    def array(
        self,
        raw: object,
        path: str,
        item: Callable[[object, str], None],
        *,
        empty: str | None,
        max_length: int,
    ) -> None:
        if not isinstance(raw, list):
            self.add(path, f"expected an array, got {_kind(raw)}")
            return
        if not raw and empty is not None:
            self.add(path, empty)
        if len(raw) > max_length:
            self.add(path, f"at most {max_length} entries, got {len(raw)}")
            return
        for i, element in enumerate(raw):
            item(element, _join(path, i))

    def struct_fields(self, raw: dict[str, object], cls: type, path: str, skip: set[str]) -> None:
        hints = typing.get_type_hints(cls, include_extras=True)
        for name, value in raw.items():
            if name in hints and name not in skip:
                self.convert(value, hints[name], _join(path, name))

    # -------------------------------------------------------------------- levels

    def config(self, raw: object) -> None:
        fields = {f.encode_name for f in msgspec.structs.fields(StrategyConfig)}
        data = self.obj(raw, "", fields, set())
        if data is None:
            return
        self.struct_fields(data, StrategyConfig, "", {"rules"})
        if "rules" in data:
            self.array(data["rules"], "rules", self.rule, empty=None, max_length=200)

    def rule(self, raw: object, path: str) -> None:
        fields = {f.encode_name for f in msgspec.structs.fields(Rule)}
        data = self.obj(raw, path, fields, {"conditions", "actions"})
        if data is None:
            return
        self.struct_fields(data, Rule, path, {"conditions", "actions"})
        if "conditions" in data:
            self.array(
                data["conditions"],
                _join(path, "conditions"),
                lambda r, p: self.condition(r, p, 1),
                empty="empty: a rule needs at least one condition",
                max_length=50,
            )
        if "actions" in data:
            self.array(
                data["actions"],
                _join(path, "actions"),
                self.action,
                empty="empty: a rule needs at least one action",
                max_length=20,
            )

    def condition(self, raw: object, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.add(path, f"groups nested deeper than {MAX_DEPTH} levels")
            return
        if not isinstance(raw, dict):
            self.add(path, f"expected an object, got {_kind(raw)}")
            return
        op = raw.get("operator")
        if op in ("and", "or"):
            data = self.obj(raw, path, {"operator", "conditions"}, {"conditions"})
            if data is not None and "conditions" in data:
                self.array(
                    data["conditions"],
                    _join(path, "conditions"),
                    lambda r, p: self.condition(r, p, depth + 1),
                    empty=f"empty group: '{op}' needs at least one condition",
                    max_length=50,
                )
        elif op == "not":
            data = self.obj(raw, path, {"operator", "condition"}, {"condition"})
            if data is not None and "condition" in data:
                self.condition(data["condition"], _join(path, "condition"), depth + 1)
        else:
            self.comparison(raw, path)

    def comparison(self, raw: dict[str, object], path: str) -> None:
        op = raw.get("operator")
        known = sorted([*_CONDITION_TYPES, *_GROUPS])
        if "operator" not in raw:
            self.add(_join(path, "operator"), "required field missing")
            return
        if not isinstance(op, str) or op not in _CONDITION_TYPES:
            self.add(_join(path, "operator"), f"unknown operator {op!r}; one of {known}")
            return
        cls = _CONDITION_TYPES[op]
        fits = get_args(typing.get_type_hints(cls)["field"])
        field = raw.get("field")
        if isinstance(field, str) and field not in fits:
            every = get_args(typing.get_type_hints(Equal)["field"])
            if field in every:
                self.add(
                    _join(path, "operator"),
                    f"operator {op!r} does not apply to field {field!r}; "
                    f"it applies to {list(fits)}",
                )
            else:
                self.add(_join(path, "field"), f"unknown field {field!r}; one of {list(every)}")
            return
        if self.obj(raw, path, {"operator", "field", "value"}, {"field", "value"}) is None:
            return
        if raw.keys() - {"operator", "field", "value"} or not raw.keys() >= {"field", "value"}:
            return
        value = raw["value"]
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            got = f"{len(value)} value(s)" if isinstance(value, list) else _kind(value)
            self.add(_join(path, "value"), f"between needs two bounds [low, high], got {got}")
            return
        typed = self.convert(raw, cls, path)
        if typed is not None:
            _check_values(typed, path, self.problems)  # type: ignore[arg-type]

    def action(self, raw: object, path: str) -> None:
        self.convert(raw, Action, path)


# ------------------------------------------------------------------------- values


def _value_problem(field: str, value: object) -> str | None:
    if field == "time_of_day":
        if not isinstance(value, str) or minutes(value) is None:
            return f"time_of_day takes 'HH:MM' (00:00..24:00), got {value!r}"
        return None
    if field == "day_type":
        if value not in DAY_TYPES:
            return f"day_type is one of {sorted(DAY_TYPES)}, got {value!r}"
        return None
    if not isinstance(value, int | float):
        return f"field {field!r} takes a number, got {value!r}"
    return None


def _check_values(cond: Comparison, path: str, out: list[Problem]) -> None:  # noqa: PLR0912
    """Values of one comparison against its field (groups are walked by the caller)."""
    match cond:
        case Between():
            bad = False
            for i, v in enumerate(cond.value):
                message = _value_problem(cond.field, v)
                if message:
                    out.append(Problem(_join(_join(path, "value"), i), message))
                    bad = True
            if bad:
                return
            low, high = cond.value
            if cond.field == "time_of_day":
                if low == high:
                    out.append(Problem(_join(path, "value"), "an empty window: low == high"))
            elif low > high:  # type: ignore[operator]
                out.append(
                    Problem(_join(path, "value"), f"low bound {low} is above high bound {high}")
                )
        case In():
            for i, v in enumerate(cond.value):
                message = _value_problem(cond.field, v)
                if message is None and cond.field == "slot" and not _is_slot(v):
                    message = f"slot is an integer 0..{SLOTS_PER_DAY - 1}, got {v!r}"
                if message:
                    out.append(Problem(_join(_join(path, "value"), i), message))
        case _:
            message = _value_problem(cond.field, cond.value)
            if (
                message is None
                and cond.field == "slot"
                and isinstance(cond, Equal | NotEqual)
                and not _is_slot(cond.value)
            ):
                message = f"slot is an integer 0..{SLOTS_PER_DAY - 1}, got {cond.value!r}"
            if message:
                out.append(Problem(_join(path, "value"), message))


def _is_slot(v: object) -> bool:
    return isinstance(v, int | float) and float(v).is_integer() and 0 <= v < SLOTS_PER_DAY


# ------------------------------------------------------------------- reachability


def rank(rules: list[Rule]) -> list[int]:
    """Evaluation order: higher ``priority`` first, then list order."""
    return sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i))


def _same_conditions(a: Rule, b: Rule) -> bool:
    def key(rule: Rule) -> list[bytes]:
        return sorted(msgspec.json.encode(c) for c in rule.conditions)

    return key(a) == key(b)


def _check_reachability(config: StrategyConfig, out: list[Problem]) -> None:
    rules = config.rules
    order = rank(rules)
    for position, i in enumerate(order):
        rule = rules[i]
        if not rule.enabled:
            continue
        path = f"rules[{i}]"
        if can_hold(rule.conditions) is False:
            out.append(
                Problem(
                    _join(path, "actions"),
                    "unreachable: the rule's conditions can never hold together",
                )
            )
            continue
        seen: dict[str, int] = {}
        for k, action in enumerate(rule.actions):
            channel = channel_of(action)
            apath = _join(_join(path, "actions"), k)
            if channel != "notify" and channel in seen:
                out.append(
                    Problem(
                        apath,
                        f"unreachable: actions[{seen[channel]}] of this rule already sets "
                        f"the {channel}",
                    )
                )
                continue
            seen.setdefault(channel, k)
            if (
                isinstance(action, BidAction)
                and action.parameters.slots is not None
                and can_hold(rule.conditions, action.parameters.slots) is False
            ):
                out.append(
                    Problem(
                        _join(_join(apath, "parameters"), "slots"),
                        "unreachable: the rule's conditions never hold in these slots",
                    )
                )
                continue
            for j in order[:position]:
                earlier = rules[j]
                if (
                    earlier.enabled
                    and channel != "notify"
                    and any(channel_of(a) == channel for a in earlier.actions)
                    and _same_conditions(earlier, rule)
                ):
                    out.append(
                        Problem(
                            apath,
                            f"unreachable: rules[{j}] has the same conditions, ranks higher "
                            f"and sets the {channel} first",
                        )
                    )
                    break


def validate_config(raw: object, strategy_type: StrategyType | None = None) -> StrategyConfig:
    """Parse a strategy ``config`` (decoded JSON, or JSON bytes/str) or raise
    :class:`ConfigError` listing every problem with its path.

    >>> try:
    ...     validate_config({"rules": [{"conditions": [
    ...         {"field": "price", "operator": "in", "value": [1]}],
    ...         "actions": [{"type": "charge", "parameters": {"power_kw": -5}}]}]})
    ... except ConfigError as exc:
    ...     for problem in exc.problems:
    ...         print(problem.path)
    rules[0].conditions[0].operator
    rules[0].actions[0].parameters.power_kw
    """
    if isinstance(raw, bytes | str):
        try:
            raw = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise ConfigError([Problem("", f"not JSON: {exc}")]) from exc
    walker = _Walker()
    walker.config(raw)
    if walker.problems:
        raise ConfigError(walker.problems)
    try:
        config = msgspec.convert(raw, StrategyConfig)
    except msgspec.ValidationError as exc:  # a shape the walker does not split further
        message, _, where = str(exc).partition(" - at `$")
        raise ConfigError([Problem(where.rstrip("`").lstrip("."), message)]) from exc
    problems: list[Problem] = []
    _check_reachability(config, problems)
    if strategy_type == "RULE_BASED" and not config.rules:
        problems.append(Problem("rules", "a RULE_BASED strategy needs at least one rule"))
    if strategy_type == "AI_DRIVEN" and config.rules:
        problems.append(Problem("rules", "an AI_DRIVEN strategy takes no rules (use HYBRID)"))
    if problems:
        raise ConfigError(problems)
    return config
