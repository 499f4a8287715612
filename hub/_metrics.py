"""Prometheus metrics of one hub process, in their own registry (no module globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.request_seconds = Histogram(
            "hub_request_seconds",
            "HTTP request latency by route",
            ["method", "route", "status"],
            registry=r,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.ingest_points = Counter(
            "hub_ingest_points_total",
            "telemetry points written (redelivered duplicates included)",
            registry=r,
        )
        self.ingest_messages = Counter(
            "hub_ingest_messages_total", "uplink messages handled", ["kind"], registry=r
        )
        self.ingest_duplicates = Counter(
            "hub_ingest_duplicates_total", "batches already stored (redelivered)", registry=r
        )
        self.ingest_malformed = Counter(
            "hub_ingest_malformed_total",
            "uplink payloads dropped because they could not be decoded",
            ["reason"],
            registry=r,
        )
        self.ingest_gap_seqs = Counter(
            "hub_ingest_gap_seqs_total",
            "seqs edges stated they will never send (lost at the edge; see ingest_gaps)",
            registry=r,
        )
        self.ingest_store_errors = Counter(
            "hub_ingest_store_errors_total",
            "ingest batches that could not be stored (not acknowledged, sent again)",
            registry=r,
        )
        self.ingest_queue = Gauge("hub_ingest_queue", "messages waiting to be stored", registry=r)
        self.ack_lag_seconds = Histogram(
            "hub_ack_lag_seconds",
            "time from a batch's ts to its ack",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600),
        )
        self.mqtt_task_failures = Counter(
            "hub_mqtt_task_failures_total",
            "unexpected errors that stopped the MQTT tasks (restarted after a backoff)",
            registry=r,
        )
        self.schedule_failures = Counter(
            "hub_schedule_failures_total",
            "edge schedules that could not be built or published (skipped)",
            registry=r,
        )
        self.mqtt_connected = Gauge("hub_mqtt_connected", "1 while connected", registry=r)
        self.dispatch_deviation_w = Gauge(
            "hub_dispatch_deviation_w",
            "latest reported deviation of a dispatched device",
            ["edge", "device"],
            registry=r,
        )
        self.schedules_published = Counter(
            "hub_schedules_published_total", "dispatch schedules published", registry=r
        )
