"""Prometheus metrics of one hub process, in their own registry (no module globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ._gc import GcPauses


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
        self.gc_pauses = GcPauses()
        """``hub_gc_pause_seconds``: timed while the app's lifespan runs (hub.app)."""
        r.register(self.gc_pauses)
        self.db_statements = Counter(
            "hub_db_statements_total",
            "SQL statements executed by HTTP requests, by route",
            ["route"],
            registry=r,
        )
        self.db_seconds = Counter(
            "hub_db_statement_seconds_total",
            "time HTTP requests spent in SQL statements (waiting included), by route",
            ["route"],
            registry=r,
        )
        self.db_checkouts = Counter(
            "hub_db_checkouts_total",
            "database connections HTTP requests checked out (a ping round trip each)",
            ["route"],
            registry=r,
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
        self.commands = Counter(
            "hub_commands_total",
            "commands sent to edges by outcome (replied, timeout, unavailable)",
            ["outcome"],
            registry=r,
        )
        self.command_replies_dropped = Counter(
            "hub_command_replies_dropped_total",
            "replies nobody waits for (late, from another edge, undecodable)",
            ["reason"],
            registry=r,
        )
        self.commands_pending = Gauge(
            "hub_commands_pending", "commands waiting for their reply", registry=r
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
            ["tenant", "edge", "device"],
            registry=r,
        )
        self.schedules_published = Counter(
            "hub_schedules_published_total", "dispatch schedules published", registry=r
        )
        self.job_leader = Gauge(
            "hub_job_leader", "1 while this replica leads the singleton job", ["job"], registry=r
        )
        self.job_runs = Counter(
            "hub_job_runs_total",
            "singleton job runs by outcome (ok, error, lost)",
            ["job", "outcome"],
            registry=r,
        )
        self.openadr_errors = Counter(
            "hub_openadr_errors_total",
            "OpenADR VEN failures: registration, request:<service>, poll, malformed_event, "
            "event, report, audit",
            ["connector", "kind"],
            registry=r,
        )
        self.openadr_events = Counter(
            "hub_openadr_events_total",
            "OpenADR events answered, by opt (optIn, optOut)",
            ["connector", "opt"],
            registry=r,
        )
        self.openadr_registered = Gauge(
            "hub_openadr_registered", "1 while the VEN is registered with its VTN",
            ["connector"], registry=r,
        )  # fmt: skip
        self.trading_bids_submitted = Counter(
            "hub_trading_submissions_total",
            "bid submissions a market took, by origin (api, auto)",
            ["origin"],
            registry=r,
        )
        self.trading_connector_errors = Counter(
            "hub_trading_connector_errors_total",
            "market connector calls that failed (timeout, garbage, unavailable)",
            ["connector", "kind"],
            registry=r,
        )
        self.trading_breaker_trips = Counter(
            "hub_trading_breaker_trips_total",
            "circuit breaker trips, by trigger",
            ["trigger"],
            registry=r,
        )
        self.trading_breaker_open = Gauge(
            "hub_trading_breaker_open", "1 while a VPP's breaker is tripped", ["vpp"], registry=r
        )
        self.trading_alert_failures = Counter(
            "hub_trading_alert_failures_total", "breaker alert hooks that raised", registry=r
        )
        self.trading_loop_failures = Counter(
            "hub_trading_loop_failures_total",
            "trading loop steps that failed unexpectedly (the loop goes on)",
            registry=r,
        )
        self.edge_online = Gauge(
            "hub_edge_online",
            "1 while the edge's MQTT state is online (from the database: every replica "
            "reports every edge)",
            ["tenant", "edge"],
            registry=r,
        )
        self.edges = Gauge("hub_edges", "registered edges by state", ["state"], registry=r)
        self.alerts_sent = Counter(
            "hub_alerts_sent_total",
            "alert messages delivered to a target (one message may carry several alerts)",
            ["target"],
            registry=r,
        )
        self.alerts_dropped = Counter(
            "hub_alerts_dropped_total",
            "alerts not delivered: queue full, attempts used up, or refused by the target",
            ["target", "reason"],
            registry=r,
        )
        self.alerts_retries = Counter(
            "hub_alert_retries_total", "delivery attempts that failed and were retried",
            ["target"], registry=r,
        )  # fmt: skip
        self.snapshot_waits = Counter(
            "hub_snapshot_waits_total",
            "console snapshot callers that waited for a build instead of being handed the "
            "newest one, by reason (first, own_write, failed, too_old, current, uncached)",
            ["reason"],
            registry=r,
        )
        self.snapshot_build_seconds = Histogram(
            "hub_snapshot_build_seconds",
            "console snapshot builds, start to end (requests served meanwhile included), by "
            "what was read from the database (none, recent, all)",
            ["read"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
