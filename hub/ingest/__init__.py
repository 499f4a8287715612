"""MQTT side of the hub: ingest, acks, live cache, schedules, hub state."""

from hub._cache import DeviceLive, EdgeLive, LiveCache

from ._bus import MqttBus
from ._tracker import AckTracker, Gap

__all__ = ["AckTracker", "DeviceLive", "EdgeLive", "Gap", "LiveCache", "MqttBus"]
