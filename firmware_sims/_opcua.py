"""The HVAC/chiller plant on OPC UA (asyncua server).

Address space (namespace ``urn:lingtan:sims``, usually index 2), one object per device
``ns=2;s=<device>`` with variables ``ns=2;s=<device>.<Name>``:

====================  ======  ==  ==============================================
name                  type    rw  meaning
====================  ======  ==  ==============================================
SupplyTemp            Double  r   chilled water supply temperature, °C
RoomTemp              Double  r   building (RC node) temperature, °C
OutdoorTemp           Double  r   outdoor temperature, °C
Power                 Double  r   electric power drawn, W (consumption > 0)
COP                   Double  r   coefficient of performance
EnergyConsumed        Double  r   electric energy since start, Wh
Alarm                 Boolean r   plant alarm
Reverted              Boolean r   true after the revert timer restored defaults
RatedPower            Double  r   nameplate electric power, W
Setpoint              Double  rw  room temperature setpoint, 16..30 °C
PowerLimit            Double  rw  electric power limit, 0..rated W
RevertSeconds         UInt32  rw  revert timer (0 = never), 0..86400 s
====================  ======  ==  ==============================================

Faults: ``slow`` (every read and write answered ``delay_s`` late), ``exception`` (every
variable of the device reads ``BadDeviceFailure``, in reads and in subscriptions, and
writes get it too), ``frozen`` (values stop), ``garbage`` (out-of-range values of the right
types), ``alarm``, ``refuse_writes`` and ``drop`` (connections closed every publish tick).
:meth:`OpcUaDeviceServer.drop_subscriptions` deletes the clients' subscriptions and keeps
their sessions.

Writes of the wrong variant type get ``BadTypeMismatch`` (asyncua's own check); values
out of range get ``BadOutOfRange``; with the ``refuse_writes`` fault every write gets
``BadUserAccessDenied``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Final

from ._faults import FaultKind, FaultSet
from ._physics import Chiller, WriteRejected

NAMESPACE_URI: Final = "urn:lingtan:sims"
READ_NODES: Final = (
    "SupplyTemp",
    "RoomTemp",
    "OutdoorTemp",
    "Power",
    "COP",
    "EnergyConsumed",
    "Alarm",
    "Reverted",
    "RatedPower",
)
WRITE_NODES: Final = ("Setpoint", "PowerLimit", "RevertSeconds")


def _ua() -> Any:
    """asyncua's ``ua`` module, typed loosely: its stubs do not export what it uses."""
    from asyncua import ua

    return ua


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def endpoint_url(host: str, port: int, device: str) -> str:
    return f"opc.tcp://{host}:{port}/lingtan/{device}"


class OpcUaDeviceServer:
    """A running asyncua server for one chiller plant."""

    def __init__(self, name: str, model: Chiller, faults: FaultSet, seed: int = 0) -> None:
        self.name = name
        self.model = model
        self.faults = faults
        self.url = ""
        self.port = 0
        self.ns = 0
        self._nodes: dict[str, Any] = {}
        self._server: Any = None
        self._rnd = random.Random(seed)  # noqa: S311 - simulation, not crypto
        self._ids: dict[Any, str] = {}

    def _values(self) -> dict[str, tuple[object, str]]:
        m = self.model
        return {
            "SupplyTemp": (m.supply_c, "Double"),
            "RoomTemp": (m.room_c, "Double"),
            "OutdoorTemp": (m.weather.outdoor_c(m.t), "Double"),
            "Power": (m.p_w, "Double"),
            "COP": (m.cop, "Double"),
            "EnergyConsumed": (m.wh_consumed, "Double"),
            "Alarm": (m.alarm, "Boolean"),
            "Reverted": (m.reverted, "Boolean"),
            "RatedPower": (m.rated_w, "Double"),
            "Setpoint": (m.setpoint_c, "Double"),
            "PowerLimit": (m.power_limit_w, "Double"),
            "RevertSeconds": (m.revert.tms, "UInt32"),
        }

    async def publish(self) -> None:
        """Copy the model's state into the address space (skipped while ``frozen``; bad
        quality on every variable during ``exception``, so subscriptions see it too)."""
        ua = _ua()

        if FaultKind.DROP in self.faults or FaultKind.REBOOT in self.faults:
            self.drop_connections()
        if FaultKind.FROZEN in self.faults or not self._nodes:
            return
        if FaultKind.EXCEPTION in self.faults:
            bad = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadDeviceFailure))
            for node in self._nodes.values():
                await self._server.write_attribute_value(node.nodeid, bad)
            return
        values = self._values()
        if FaultKind.GARBAGE in self.faults:
            values = self._garbage(values)
        for name, (value, vtype) in values.items():
            variant = ua.Variant(value, getattr(ua.VariantType, vtype))
            # straight into the address space: not a client write, so no validation/revert
            await self._server.write_attribute_value(
                self._nodes[name].nodeid, ua.DataValue(variant)
            )

    async def drop_subscriptions(self) -> int:
        """Delete every client subscription while keeping the sessions (what a server
        restarted behind a gateway, or one short of resources, does); how many went."""
        if self._server is None:
            return 0
        service = self._server.iserver.subscription_service
        ids = list(service.subscriptions)
        await service.delete_subscriptions(ids)
        return len(ids)

    async def _pre_request(self, *_args: object) -> None:
        """Before every client read and write: the ``slow`` fault's delay."""
        if (slow := self.faults.get(FaultKind.SLOW)) is not None:
            await asyncio.sleep(slow.params["delay_s"])

    def drop_connections(self) -> None:
        """Close every client connection (the ``drop`` fault)."""
        if self._server is not None:
            for transport in list(self._server.iserver.asyncio_transports):
                transport.close()

    def _garbage(self, values: dict[str, tuple[object, str]]) -> dict[str, tuple[object, str]]:
        """Out-of-range nonsense of the right types (the ``garbage`` fault)."""
        rnd = self._rnd
        out: dict[str, tuple[object, str]] = {}
        for name, (_, vtype) in values.items():
            if vtype == "Double":
                out[name] = (rnd.choice([-1e6, 1e6, -273.15, 9999.0]) * rnd.random(), vtype)
            elif vtype == "Boolean":
                out[name] = (rnd.random() < 0.5, vtype)
            else:
                out[name] = (rnd.getrandbits(32), vtype)
        return out

    def _validator(self) -> Callable[[Any, Any], Any]:
        """Range checks and the refuse_writes fault, in front of asyncua's own write."""
        ua = _ua()

        m = self.model
        apply: dict[str, Callable[[Any], None]] = {
            "Setpoint": lambda v: m.write_setpoint(float(v)),
            "PowerLimit": lambda v: m.write_power_limit_w(float(v)),
            "RevertSeconds": lambda v: m.write_revert_s(int(v)),
        }
        expected = {
            "Setpoint": ua.VariantType.Double,
            "PowerLimit": ua.VariantType.Double,
            "RevertSeconds": ua.VariantType.UInt32,
        }

        def check(node_id: Any, value: Any) -> Any:
            name = self._ids.get(node_id)
            if name is None or name not in WRITE_NODES:
                return None
            if FaultKind.EXCEPTION in self.faults:
                return ua.StatusCode(ua.StatusCodes.BadDeviceFailure)
            if FaultKind.REFUSE_WRITES in self.faults:
                return ua.StatusCode(ua.StatusCodes.BadUserAccessDenied)
            variant = value.Value
            if variant is None or variant.VariantType != expected[name]:
                return ua.StatusCode(ua.StatusCodes.BadTypeMismatch)
            try:
                apply[name](variant.Value)
            except WriteRejected:
                return ua.StatusCode(ua.StatusCodes.BadOutOfRange)
            return None

        return check

    @contextlib.asynccontextmanager
    async def serve(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        cert_dir: Path | None = None,
    ) -> AsyncIterator[OpcUaDeviceServer]:
        from asyncua.server.address_space import AttributeService
        from asyncua.server.server import Server

        ua = _ua()
        server_cls: Any = Server

        # The server side of asyncua is chatty; quieten only it, never the clients (the
        # edge agent's OPC UA adapter runs in the same process in `vpp demo`).
        logging.getLogger("asyncua.server").setLevel(logging.ERROR)
        server = server_cls(
            user_manager=None if username is None else _PasswordUsers(username, password or "")
        )
        await server.init()
        server.set_server_name(f"Lingtan sim {self.name}")
        if cert_dir is not None:
            await _secure(server, cert_dir, host)
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if username is not None:
            server.set_security_IDs(["Username"])
        self.ns = await server.register_namespace(NAMESPACE_URI)
        obj = await server.nodes.objects.add_object(ua.NodeId(self.name, self.ns), self.name)
        for name, (value, vtype) in self._values().items():
            node = await obj.add_variable(
                ua.NodeId(f"{self.name}.{name}", self.ns),
                name,
                ua.Variant(value, getattr(ua.VariantType, vtype)),
            )
            if name in WRITE_NODES:
                await node.set_writable()
            self._nodes[name] = node
            self._ids[node.nodeid] = name
        check = self._validator()
        iserver = server.iserver
        base = iserver.attribute_service

        faults, ids = self.faults, self._ids

        class _Validating(AttributeService):
            def read(self, params: Any) -> list[Any]:
                results: list[Any] = super().read(params)
                if FaultKind.EXCEPTION not in faults:
                    return results
                failure = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadDeviceFailure))
                return [
                    failure if rv.NodeId in ids else dv
                    for rv, dv in zip(params.NodesToRead, results, strict=True)
                ]

            async def write(self, params: Any, user: Any = None) -> list[Any]:
                results: list[Any] = []
                for wv in params.NodesToWrite:
                    status = None
                    if wv.AttributeId == ua.AttributeIds.Value:
                        status = check(wv.NodeId, wv.Value)
                    if status is None:
                        sub = ua.WriteParameters(NodesToWrite=[wv])
                        kwargs = {} if user is None else {"user": user}
                        status = (await base.write(sub, **kwargs))[0]
                    results.append(status)
                return results

        iserver.attribute_service = _Validating(iserver.aspace)
        from asyncua.common.callback import CallbackType

        for kind in (CallbackType.PreRead, CallbackType.PreWrite):
            server.subscribe_server_callback(kind, self._pre_request)
        # A free port is picked only now, right before the bind: picked before building the
        # address space (about a second), another process on the machine could take it first.
        port = port or free_port(host)
        self.url = endpoint_url(host, port, self.name)
        server.set_endpoint(self.url)
        await server.start()
        self._server = server
        self.port = port
        try:
            await self.publish()
            yield self
        finally:
            self._nodes.clear()
            await server.stop()


class _PasswordUsers:
    """One username/password; the user may write writable nodes only (role User)."""

    def __init__(self, username: str, password: str) -> None:
        self._username, self._password = username, password

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> Any:
        from asyncua.crypto.permission_rules import User, UserRole

        if username == self._username and password == self._password:
            return User(role=UserRole.User, name=username)
        return None


async def _secure(server: Any, cert_dir: Path, host: str) -> None:
    """Basic256Sha256 (Sign and SignAndEncrypt) with a self-signed certificate."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ua = _ua()
    cert_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start
    key, cert = cert_dir / "server-key.pem", cert_dir / "server-cert.der"
    await setup_self_signed_certificate(
        key, cert, "urn:lingtan:sims:server", host, [ExtendedKeyUsageOID.SERVER_AUTH], {}
    )
    await server.load_certificate(str(cert))
    await server.load_private_key(str(key))
    server.set_security_policy(
        [
            ua.SecurityPolicyType.Basic256Sha256_Sign,
            ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
        ]
    )
