"""MQTT brokers on loopback: a mosquitto subprocess, or amqtt in-process for the demo.

:class:`Mosquitto` is what tests and the demo use when the binary is installed: it writes
its own config (never the system one), binds one loopback port, and is stopped and waited
for on exit. :func:`run_amqtt` is the zero-setup fallback (``vpp broker``); amqtt keeps
sessions only in memory and tops out near 4k msg/s, so it is never used in production or
in tests of our own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """A broker could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host`` (bind to port 0 and read it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise BrokerError(f"nothing listens on {host}:{port} after {timeout}s") from exc
            time.sleep(0.05)


def mosquitto_binary() -> str | None:
    """Path of the mosquitto broker binary, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


@dataclass
class Mosquitto:
    """A mosquitto subprocess with a config file we write.

    ``extra_config`` lines are appended to the listener's config (ACL file, TLS, ...).
    Use as a context manager, or :meth:`start` / :meth:`stop` (tests restart it to
    simulate outages; the port stays the same and persistence keeps sessions).
    """

    host: str = "127.0.0.1"
    port: int = 0
    extra_config: list[str] = field(default_factory=list)
    persistence: bool = True
    workdir: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config_text(self) -> str:
        assert self.workdir is not None
        lines = [
            f"listener {self.port} {self.host}",
            # Started as root, mosquitto drops to user 'mosquitto', which cannot write our
            # private workdir; stay the user who started it (ignored when not root).
            f"user {getpass.getuser()}",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            *self.extra_config,
        ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise BrokerError(
                "mosquitto is not installed (Debian: apt-get install mosquitto mosquitto-clients)"
            )
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vpp-mosquitto-")
            self.workdir = Path(self._tmp.name)
        if self.port == 0:
            self.port = free_port(self.host)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config_text())
        with (self.workdir / "mosquitto.log").open("ab") as log:
            # A process group of its own: a Ctrl-C in the terminal goes to the whole
            # foreground group, and mosquitto would die at once under the clients that are
            # still stopping (vpp demo's hub and agent then logged "MQTT broker unreachable;
            # retrying" on their way out). Whoever started it stops it (stop(), last).
            self._proc = subprocess.Popen(
                [binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                process_group=0,
            )
        try:
            wait_for_port(self.host, self.port, timeout)
            if not self.running:
                raise BrokerError(
                    f"mosquitto exited at start (port {self.port} taken?): {self.log_tail()}"
                )
        except BrokerError:
            self.stop()
            raise

    def log_tail(self, lines: int = 5) -> str:
        """The last lines mosquitto wrote to its log (errors and warnings only)."""
        if self.workdir is None or not (self.workdir / "mosquitto.log").exists():
            return ""
        text = (self.workdir / "mosquitto.log").read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def amqtt_config(host: str, port: int) -> dict[str, Any]:
    """amqtt broker config: one TCP listener on ``host:port``, anonymous, no $SYS spam."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


@contextlib.asynccontextmanager
async def run_amqtt(host: str = "127.0.0.1", port: int = 1883) -> AsyncIterator[str]:
    """Run the in-process amqtt broker; yields its ``mqtt://`` URL."""
    try:
        from amqtt.broker import Broker
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BrokerError('amqtt is not installed: pip install "lingtan-vpp[broker]"') from exc
    broker = Broker(amqtt_config(host, port))
    amqtt_log = logging.getLogger("amqtt")
    level = amqtt_log.level
    amqtt_log.setLevel(logging.CRITICAL)  # it logs a traceback for a taken port; we explain
    try:
        await broker.start()
    except Exception as exc:  # amqtt raises its own BrokerError, or OSError
        raise BrokerError(f"amqtt cannot listen on {host}:{port}: {exc}") from exc
    finally:
        amqtt_log.setLevel(level)
    try:
        yield f"mqtt://{host}:{port}"
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broker.shutdown(), 10)


@contextlib.asynccontextmanager
async def local_broker(
    host: str = "127.0.0.1", port: int = 0, prefer: str = "auto"
) -> AsyncIterator[str]:
    """A broker for one machine: mosquitto if installed (or ``prefer="mosquitto"``), else amqtt.

    ``port=0`` picks a free port: never assume 1883 is free.
    """
    if port == 0:
        port = free_port(host)
    if prefer in {"auto", "mosquitto"} and mosquitto_binary() is not None:
        with _mosquitto(host, port) as url:
            yield url
        return
    if prefer == "mosquitto":
        raise BrokerError("mosquitto was asked for but is not installed")
    async with run_amqtt(host, port) as url:
        yield url


@contextlib.contextmanager
def _mosquitto(host: str, port: int) -> Iterator[str]:
    broker = Mosquitto(host=host, port=port)
    try:
        broker.start()
        yield broker.url
    finally:
        broker.close()


__all__ = [
    "BrokerError",
    "Mosquitto",
    "amqtt_config",
    "free_port",
    "local_broker",
    "mosquitto_binary",
    "run_amqtt",
    "wait_for_port",
]
