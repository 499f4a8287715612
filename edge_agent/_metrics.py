"""Prometheus metrics of one agent, in its own registry (no module globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AgentMetrics:
    """Every metric the agent exports on ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.poll_latency = Histogram(
            "vpp_agent_poll_latency_seconds",
            "Time of one device poll",
            ["device"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.polls = Counter("vpp_agent_polls", "Successful device polls", ["device"], registry=r)
        self.poll_failures = Counter(
            "vpp_agent_poll_failures", "Failed device polls by kind", ["device", "kind"], registry=r
        )
        self.poll_overruns = Counter(
            "vpp_agent_poll_overruns",
            "Poll ticks skipped because a poll ran late",
            ["device"],
            registry=r,
        )
        self.device_status = Gauge(
            "vpp_agent_device_online", "1 when the device is online", ["device"], registry=r
        )
        self.device_events = Counter(
            "vpp_agent_device_events",
            "What a device adapter recovered from by itself (OPC UA subscription_drop)",
            ["device", "event"],
            registry=r,
        )
        self.writes = Counter("vpp_agent_writes", "Setpoint writes", ["device"], registry=r)
        self.write_failures = Counter(
            "vpp_agent_write_failures", "Failed setpoint writes", ["device", "kind"], registry=r
        )
        self.clamps = Counter(
            "vpp_agent_clamps", "Setpoints narrowed by the SafetyGuard", ["reason"], registry=r
        )
        self.rejections = Counter(
            "vpp_agent_rejected_inputs",
            "Inputs rejected (malformed, stale, unknown device...)",
            ["topic", "reason"],
            registry=r,
        )
        self.outbox_rows = Gauge("vpp_agent_outbox_rows", "Rows in the outbox", registry=r)
        self.outbox_bytes = Gauge("vpp_agent_outbox_bytes", "Outbox bytes in use", registry=r)
        self.outbox_quota_alarm = Gauge(
            "vpp_agent_outbox_quota_alarm", "1 when the outbox is above 90 % of quota", registry=r
        )
        self.outbox_downsampled = Counter(
            "vpp_agent_outbox_downsampled_rows", "Old rows thinned by quota or TTL", registry=r
        )
        self.storage_errors = Counter(
            "vpp_agent_storage_errors",
            "Outbox storage failures (control goes on) by operation and kind",
            ["op", "kind"],
            registry=r,
        )
        self.storage_ok = Gauge(
            "vpp_agent_storage_ok", "0 while outbox writes fail, 1 otherwise", registry=r
        )
        self.storage_ok.set(1)
        self.outbox_lost_rows = Counter(
            "vpp_agent_outbox_lost_rows",
            "Rows whose seqs were allocated but never stored (storage errors); the hub sees "
            "the gap through floor_seq",
            registry=r,
        )
        self.outbox_reclaimed_pages = Counter(
            "vpp_agent_outbox_reclaimed_pages",
            "Free outbox pages handed back to the file system (incremental vacuum)",
            registry=r,
        )
        self.published = Counter("vpp_agent_published", "Messages published", ["kind"], registry=r)
        self.replayed = Counter("vpp_agent_replayed", "Backlog messages replayed", registry=r)
        self.replay_rate = Gauge(
            "vpp_agent_replay_rate", "Backlog messages replayed per second", registry=r
        )
        self.telemetry_dropped = Counter(
            "vpp_agent_telemetry_dropped",
            "Points dropped from the in-memory buffer (oldest first) before the outbox",
            registry=r,
        )
        self.live_dropped = Counter(
            "vpp_agent_live_queue_dropped",
            "Live publications dropped from the bounded queue (still in the outbox)",
            registry=r,
        )
        self.mqtt_connected = Gauge("vpp_agent_mqtt_connected", "1 when connected", registry=r)
        self.control_mode = Gauge(
            "vpp_agent_control_mode", "1 for the control source in force", ["source"], registry=r
        )
        self.cycle_errors = Counter(
            "vpp_agent_cycle_errors", "Control cycles that failed unexpectedly", registry=r
        )
        self.cycle_overruns = Counter(
            "vpp_agent_cycle_overruns", "Control cycles that started late", registry=r
        )


__all__ = ["AgentMetrics"]
