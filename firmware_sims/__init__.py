"""Simulated park devices (SunSpec Modbus TCP, OPC UA) for tests, benchmarks and demos."""

__all__: list[str] = []
