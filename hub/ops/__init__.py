"""Operations: ``/healthz``, ``/readyz``, ``/metrics``."""

from ._controller import OpsController

__all__ = ["OpsController"]
