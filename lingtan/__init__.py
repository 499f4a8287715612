"""The ``vpp`` command and what ties the packages together on one machine (demo, brokers).

This is the one package allowed to import every other package of ours; it does so lazily,
so ``pip install "lingtan-vpp[agent]"`` gives a working ``vpp agent`` without the hub.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lingtan-vpp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
