"""Write a commented ``agent.toml`` from what ``vpp agent scan`` found (pure text).

The scan itself (``edge_agent.devices._scan``) reads the devices; this module turns its
:class:`~edge_agent.devices._scan.ScanResult` into a config that
:func:`edge_agent.parse_config` accepts: every device with its kind, the limits its
nameplate states and the fail-safe timer it offers, every value the scan could not read
marked ``CHECK``, every unknown Modbus device as a commented stub pointing to
``[register_maps]``, and every skipped target listed at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from protocol.topics import TopicError, validate_device_id

from ._init import EVSE_MAP, EVSE_MAP_LINES, charger_lines

if TYPE_CHECKING:
    from .devices._scan import Found, ModbusTarget, ScanResult

REVERT_S = 10.0


def parse_units(text: str) -> tuple[int, ...]:
    """``"1-10"``, ``"1,3,5-7"`` -> unit ids (1..247); ValueError naming the bad part.

    >>> parse_units("1,3-5")
    (1, 3, 4, 5)
    """
    units: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if match is None:
            raise ValueError(f"--units: {part!r} is not N or N-M")
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if not 0 <= lo <= hi <= 247:
            raise ValueError(f"--units: {part!r} must lie within 0..247, low to high")
        units += [u for u in range(lo, hi + 1) if u not in units]
    return tuple(units)


def parse_targets(
    items: Sequence[str], *, units: tuple[int, ...], default_port: int = 502,
    cidr: str | None = None, max_hosts: int = 1024,
) -> tuple[list[ModbusTarget], list[str]]:  # fmt: skip
    """``HOST[:PORT]`` and ``opc.tcp://...`` arguments (plus a CIDR range) -> targets."""
    import ipaddress

    from .devices._scan import ModbusTarget

    modbus: list[ModbusTarget] = []
    opcua: list[str] = []
    for item in items:
        if item.startswith("opc.tcp://"):
            opcua.append(item)
            continue
        parts = urlsplit(f"//{item}")
        try:
            port = parts.port or default_port
        except ValueError as exc:
            raise ValueError(f"target {item!r}: bad port") from exc
        if not parts.hostname:
            raise ValueError(f"target {item!r}: expected HOST[:PORT] or opc.tcp://...")
        modbus.append(ModbusTarget(parts.hostname, port, units))
    if cidr is not None:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ValueError(f"--range: {exc}") from exc
        if network.num_addresses > max_hosts + 2:
            raise ValueError(f"--range {cidr}: more than {max_hosts} hosts")
        hosts = list(network.hosts()) or [network.network_address]
        modbus += [ModbusTarget(str(h), default_port, units) for h in hosts]
    return modbus, opcua


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ids(found: Sequence[Found]) -> list[str]:
    """A device id per found device: its serial number when usable, else ``kind-N``."""
    used: set[str] = set()
    counters: dict[str, int] = {}
    out: list[str] = []
    for dev in found:
        candidate = dev.serial.strip().lower().replace(" ", "-")
        try:
            validate_device_id(candidate)
            ok = bool(candidate) and candidate not in used
        except TopicError:
            ok = False
        while not ok:
            counters[dev.kind] = counters.get(dev.kind, 0) + 1
            candidate = f"{dev.kind.replace('_', '-')}-{counters[dev.kind]}"
            ok = candidate not in used
        used.add(candidate)
        out.append(candidate)
    return out


def _nameplate(dev: Found) -> str:
    bits = [b for b in (dev.manufacturer, dev.model, dev.serial) if b]
    head = " ".join(bits) if bits else "no nameplate"
    if dev.models:
        head += f"; SunSpec models {', '.join(map(str, dev.models))} from {dev.sunspec_base}"
    return head


def _device_lines(dev: Found, dev_id: str) -> list[str]:  # noqa: PLR0912, PLR0915
    where = dev.endpoint or f"{dev.host}:{dev.port} unit {dev.unit_id}"
    lines = ["", f"# {dev.kind} at {where}: {_nameplate(dev)}"]
    lines += [f"# CHECK: {note}" for note in dev.notes]
    lines += ["[[devices]]", f"id = {_q(dev_id)}", f"kind = {_q(dev.kind)}"]
    lines.append(f"protocol = {_q(dev.protocol)}")
    lines += [f"host = {_q(dev.host)}", f"port = {dev.port}"]
    if dev.protocol == "opcua":
        lines.append(f"endpoint = {_q(dev.endpoint)}")
        if dev.opcua_namespace:
            lines.append(f"opcua_namespace = {_q(dev.opcua_namespace)}")
        if dev.opcua_object:
            lines.append(f"opcua_object = {_q(dev.opcua_object)}")
    else:
        lines.append(f"unit_id = {dev.unit_id if dev.unit_id is not None else 1}")
        if dev.register_map == "sunspec":
            if dev.sunspec_base != 40000:
                lines.append(f"sunspec_base = {dev.sunspec_base}")
        else:
            lines.append(f"register_map = {_q(dev.register_map)}")
    lines.append("poll_interval_s = 1.0")
    limits: list[str] = []
    revert = (
        f"revert_s = {REVERT_S:.1f}  # the device's own fail-safe, refreshed every half of it"
        if dev.revert
        else "# no device fail-safe timer found: the device will NOT fall back by itself "
        "if the agent stops"
    )
    match dev.kind:
        case "battery":
            rated = dev.rated_w
            dis = dev.discharge_rated_w or rated
            cha = dev.charge_rated_w or rated
            if dis is None or cha is None:
                limits += ["# CHECK: no rating read: 0 W keeps the battery read-only",
                           "p_max_discharge_w = 0.0", "p_max_charge_w = 0.0"]  # fmt: skip
            else:
                limits += [f"p_max_discharge_w = {dis:.1f}  # 702 WDisChaRteMaxRtg/WMaxRtg",
                           f"p_max_charge_w = {cha:.1f}  # 702 WChaRteMaxRtg/WMaxRtg",
                           f"ramp_w_per_s = {max(dis, cha) / 5:.1f}  # 5 s to full"]  # fmt: skip
            if dev.soc_min_pct is not None and dev.soc_max_pct is not None:
                limits += [f"soc_min_pct = {dev.soc_min_pct:.1f}  # 802 SoCMin",
                           f"soc_max_pct = {dev.soc_max_pct:.1f}  # 802 SoCMax"]  # fmt: skip
            if dev.capacity_wh is not None:
                limits.append(f"# capacity {dev.capacity_wh / 1000:,.1f} kWh (713/802 WHRtg)")
            limits.append(revert)
        case "pv":
            if dev.rated_w is None:
                limits += ["# CHECK: no rating read: 0 W keeps the inverter read-only",
                           "p_max_discharge_w = 0.0"]  # fmt: skip
            else:
                limits.append(f"p_max_discharge_w = {dev.rated_w:.1f}  # 702 WMaxRtg")
            limits.append(revert)
        case "ev_charger":
            return lines + charger_lines(
                phases=dev.phases or 3,
                voltage_v=dev.voltage_v or 230.0,
                min_current_a=dev.min_current_a if dev.min_current_a is not None else 6.0,
                max_current_a=dev.max_current_a or 32.0,
                revert_s=REVERT_S,
            )
        case "hvac":
            if dev.rated_w is not None:
                limits.append(f"p_max_charge_w = {dev.rated_w:.1f}  # consumption cap range")
            limits.append(revert.replace("fail-safe", "RevertSeconds"))
            setpoint = dev.setpoint_c if dev.setpoint_c is not None else 24.0
            return [*lines, "", "[devices.limits]", *limits, "",
                    "# CHECK: the comfort band an event may take the building to",
                    "[devices.hvac]", "comfort_min_c = 20.0", "comfort_max_c = 27.0",
                    f"setpoint_c = {min(27.0, max(20.0, setpoint)):.1f}  # the plant's own",
                    "setpoint_offset_max_c = 2.0  # raised with the curtailed share",
                    "rebound_window_s = 1800.0"]  # fmt: skip
        case _:
            pass
    if limits:
        lines += ["", "[devices.limits]", *limits]
    return lines


def _stub_lines(dev: Found, index: int) -> list[str]:
    return [
        "",
        f"# unknown Modbus device at {dev.host}:{dev.port} unit {dev.unit_id}: "
        + "; ".join(dev.notes),
        "# Describe its registers in [register_maps.NAME] (see docs/agent.md) and uncomment:",
        "# [[devices]]",
        f'# id = "device-{index}"',
        '# kind = "meter"  # battery, pv, meter, ev_charger or hvac',
        f'# host = "{dev.host}"',
        f"# port = {dev.port}",
        f"# unit_id = {dev.unit_id}",
        '# register_map = "NAME"',
        "#",
        "# [register_maps.NAME]",
        "# points = [",
        '#   { name = "p_w", address = 0, type = "int32", unit = "W", role = "p_w" },',
        "# ]",
    ]


def render_scan_config(
    result: ScanResult,
    *,
    mqtt_url: str,
    tenant: str,
    edge: str,
    outbox_path: str = "var/agent/outbox.db",
    metrics_port: int = 9108,
    import_max_w: float | None = None,
    export_max_w: float | None = None,
    scanned: str = "",
) -> str:
    """The commented agent TOML for ``result`` (raises ValueError on a bad ``mqtt_url``)."""
    if urlsplit(mqtt_url).scheme not in {"mqtt", "mqtts"}:
        raise ValueError(f"--mqtt must be an mqtt:// or mqtts:// URL, got {mqtt_url!r}")
    known = [d for d in result.found if d.kind != "unknown"]
    unknown = [d for d in result.found if d.kind == "unknown"]
    total = sum(d.rated_w or 0.0 for d in known if d.kind != "meter")
    guess = max(1.0, total)
    imp = import_max_w if import_max_w is not None else guess
    exp = export_max_w if export_max_w is not None else guess
    counts: dict[str, int] = {}
    for dev in known:
        counts[dev.kind] = counts.get(dev.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no devices"
    lines = [
        "# Lingtan VPP edge agent configuration, written by `vpp agent scan`.",
        f"# Scanned: {scanned}" if scanned else "# Scanned targets: see the command line.",
        f"# Found {summary}; {len(unknown)} unknown, {len(result.skipped)} skipped "
        "(listed at the end).",
        "# Powers in W, generator convention: positive = discharge / production, negative =",
        "# charge / consumption. Check every line marked CHECK before `vpp agent run`.",
        "",
        "[site]",
        f"tenant = {_q(tenant)}",
        f"edge = {_q(edge)}",
        "control_period_s = 1.0",
        "watchdog_s = 300.0",
        "",
        "[site.limits]",
        "# CHECK: the grid connection's contract (import) and export permit at the point of",
        "# connection; unless given (--import-max-w/--export-max-w) the sum of the ratings.",
        f"import_max_w = {imp:.1f}",
        f"export_max_w = {exp:.1f}",
        "soc_min_pct = 5.0",
        "soc_max_pct = 95.0",
        "",
        "[site.default_control]",
        'mode = "self_consumption"',
        "",
        "[hub]",
        f"url = {_q(mqtt_url)}",
        "",
        "[outbox]",
        f"path = {_q(outbox_path)}",
        "",
        "[metrics]",
        'host = "127.0.0.1"',
        f"port = {metrics_port}",
    ]
    for dev, dev_id in zip(known, _ids(known), strict=True):
        lines += _device_lines(dev, dev_id)
    if any(d.register_map == EVSE_MAP for d in known):
        lines += EVSE_MAP_LINES
    for index, dev in enumerate(unknown, start=1):
        lines += _stub_lines(dev, index)
    if result.skipped:
        lines += ["", "# Skipped (nothing usable found):"]
        lines += [f"#   {s.target}: {s.reason}" for s in result.skipped]
    return "\n".join(lines) + "\n"


__all__ = ["parse_targets", "parse_units", "render_scan_config"]
