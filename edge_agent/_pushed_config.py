"""The site config pushed by the hub (``config``, retained, versioned): merged into the
local one, where it may only narrow limits (:func:`merge_site_config`), and applied."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec

from protocol import (
    SiteConfig,
)
from protocol.topics import TopicKind

from ._config import (
    AgentConfig,
    DefaultControlConfig,
    DeviceLimitsConfig,
    SiteLimitsConfig,
)
from ._errors import ConfigError

if TYPE_CHECKING:
    from ._app import Agent

_log = logging.getLogger(__name__)


def apply_pushed_config(agent: Agent, pushed: SiteConfig) -> None:
    extra: dict[str, Any] = {"schedule_id": "config", "version": pushed.version}
    if pushed.edge != agent.config.site.edge:
        agent._reject("config", f"config is for edge {pushed.edge!r}", TopicKind.CONFIG,
                     **extra)  # fmt: skip
        return
    if pushed.version == agent.config_version:
        return  # retained redelivery
    if pushed.version < agent.config_version:
        reason = f"stale config version {pushed.version}: {agent.config_version} is in force"
        agent._reject("config", reason, TopicKind.CONFIG, **extra)
        return
    try:
        merged = merge_site_config(agent.base_config, pushed)
    except ConfigError as exc:
        agent._reject("config", f"invalid config: {exc}", TopicKind.CONFIG, **extra)
        return
    agent.config = merged
    agent.config_version = pushed.version
    for dev in merged.devices:
        agent.runners[dev.id].config = dev
    agent.report(schedule_id="config", version=pushed.version, status="accepted",
                reason="config applied")  # fmt: skip
    _log.info("config version %d applied", pushed.version)


def merge_site_config(base: AgentConfig, pushed: SiteConfig) -> AgentConfig:
    """The local config narrowed by a config pushed from the hub (raises ConfigError).

    Site and device limits only narrow the local ones; default control and watchdog are
    replaced.
    """
    known = {d.id for d in base.devices}
    for index, dl in enumerate(pushed.device_limits):
        if dl.device not in known:
            raise ConfigError(
                f"unknown device {dl.device!r}", field=f"$.device_limits[{index}].device"
            )
    ls, ps = base.site.limits, pushed.site_limits
    ramps = [r for r in (ls.ramp_w_per_s, ps.ramp_w_per_s) if r is not None]
    soc_min, soc_max = max(ls.soc_min_pct, ps.soc_min_pct), min(ls.soc_max_pct, ps.soc_max_pct)
    if soc_min > soc_max:
        raise ConfigError("site SoC window is empty once merged", field="$.site_limits")
    limits = SiteLimitsConfig(
        import_max_w=min(ls.import_max_w, ps.import_max_w),
        export_max_w=min(ls.export_max_w, ps.export_max_w),
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        ramp_w_per_s=min(ramps) if ramps else None,
    )
    by_dev = {dl.device: dl for dl in pushed.device_limits}
    devices = []
    for dev in base.devices:
        if dev.id not in by_dev:
            devices.append(dev)
            continue
        dl, mine = by_dev[dev.id], dev.limits
        d_ramps = [r for r in (mine.ramp_w_per_s, dl.ramp_w_per_s) if r is not None]
        lo, hi = max(mine.soc_min_pct, dl.soc_min_pct), min(mine.soc_max_pct, dl.soc_max_pct)
        if lo > hi:
            raise ConfigError(f"SoC window of {dev.id} is empty once merged",
                              field="$.device_limits")  # fmt: skip
        t_max = [t for t in (mine.temp_max_c, dl.temp_max_c) if t is not None]
        t_start = [t for t in (mine.temp_derate_start_c, dl.temp_derate_start_c) if t is not None]
        try:
            narrowed = DeviceLimitsConfig(
                p_max_discharge_w=min(mine.p_max_discharge_w, dl.p_max_discharge_w),
                p_max_charge_w=min(mine.p_max_charge_w, dl.p_max_charge_w),
                soc_min_pct=lo,
                soc_max_pct=hi,
                ramp_w_per_s=min(d_ramps) if d_ramps else None,
                temp_derate_start_c=min(t_start) if t_start else None,
                temp_max_c=min(t_max) if t_max else None,
                revert_s=mine.revert_s,
            )
        except ValueError as exc:
            raise ConfigError(str(exc), field="$.device_limits") from exc
        devices.append(msgspec.structs.replace(dev, limits=narrowed))
    default = DefaultControlConfig(
        mode=pushed.default_control.mode, peak_limit_w=pushed.default_control.peak_limit_w
    )
    site = msgspec.structs.replace(
        base.site, limits=limits, default_control=default, watchdog_s=pushed.watchdog_s
    )
    return msgspec.structs.replace(base, site=site, devices=devices)
