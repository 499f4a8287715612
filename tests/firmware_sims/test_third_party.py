"""Tools we did not write: pysunspec2 (its own Modbus stack), mbpoll, asyncua's CLI tools."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import sunspec2.modbus.client as sunspec_client

from firmware_sims import Battery, Chiller, SimSite
from tests.support import SAFETY_TIMEOUT, service_missing

BIN = Path(sys.executable).parent


def _scan(port: int) -> dict[int, object]:
    device = sunspec_client.SunSpecModbusClientDeviceTCP(
        slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=5
    )
    try:
        device.scan()
        return {m: device.models[m][0] for m in device.models if isinstance(m, int)}
    finally:
        device.close()


async def test_pysunspec2_scans_every_sunspec_device_with_sane_values(site: SimSite) -> None:
    site.step(4 * 3600.0)  # solar noon
    expected = {
        "bess-1": {1, 701, 702, 704, 713, 802},
        "pv-1": {1, 701, 702, 704},
        "meter-1": {1, 203},
    }
    for name, models in expected.items():
        async with asyncio.timeout(SAFETY_TIMEOUT):
            found = await asyncio.to_thread(_scan, site.endpoint(name).port)
        assert set(found) == models, name
        common = found[1]
        assert common.Mn.value == "Lingtan"  # type: ignore[attr-defined]
        assert common.SN.value == name  # type: ignore[attr-defined]
    bess = await asyncio.to_thread(_scan, site.endpoint("bess-1").port)
    assert bess[713].SoC.cvalue == pytest.approx(site.battery("bess-1").soc_pct, abs=0.1)  # type: ignore[attr-defined]
    assert bess[702].WMaxRtg.cvalue == 500_000  # type: ignore[attr-defined]
    assert bess[702].WDisChaRteMax.cvalue == 500_000  # type: ignore[attr-defined]
    assert bess[802].Typ.value == 4  # type: ignore[attr-defined]  # lithium ion
    pv = await asyncio.to_thread(_scan, site.endpoint("pv-1").port)
    assert 0 < pv[701].W.cvalue <= 300_000  # type: ignore[attr-defined]
    assert pv[701].Hz.cvalue == 50  # type: ignore[attr-defined]
    meter = await asyncio.to_thread(_scan, site.endpoint("meter-1").port)
    assert meter[203].W.cvalue == pytest.approx(site.meter_import_w, abs=1000)  # type: ignore[attr-defined]
    assert meter[203].PhV.cvalue == 230  # type: ignore[attr-defined]


def _write_wset(port: int, watts: float) -> None:
    device = sunspec_client.SunSpecModbusClientDeviceTCP(
        slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=5
    )
    try:
        device.scan()
        ctl = device.models[704][0]
        ctl.WSetRvrtTms.cvalue = 60
        ctl.WSet.cvalue = watts
        ctl.WSetEna.cvalue = 1
        ctl.write()
    finally:
        device.close()


async def test_a_pysunspec2_write_to_704_changes_the_simulated_power(site: SimSite) -> None:
    bess = site.battery("bess-1")
    assert isinstance(bess, Battery)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await asyncio.to_thread(_write_wset, site.endpoint("bess-1").port, 250_000)
    assert bess.active_setpoint_w == 250_000
    before = site.meter_import_w
    for _ in range(10):
        site.step(1.0)
    assert bess.p_w == 250_000
    assert before - site.meter_import_w == pytest.approx(250_000, rel=0.02)
    # and the revert timer written in the same request runs
    for _ in range(60):
        site.step(1.0)
    assert bess.active_setpoint_w == 0


def _mbpoll() -> str:
    path = shutil.which("mbpoll")
    if path is None:
        service_missing("mbpoll is not installed (apt-get install mbpoll)")
    return path


async def _run(*argv: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(SAFETY_TIMEOUT):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_mbpoll_reads_the_suns_marker_and_registers(site: SimSite) -> None:
    mbpoll = _mbpoll()
    port = str(site.endpoint("bess-1").port)
    # mbpoll references are 1-based: reference 40001 is register 40000
    rc, out, err = await _run(
        mbpoll,
        "-m",
        "tcp",
        "-a",
        "1",
        "-p",
        port,
        "-r",
        "40001",
        "-c",
        "4",
        "-t",
        "4:hex",
        "-1",
        "127.0.0.1",
    )
    assert rc == 0, err
    assert "[40001]: \t0x5375" in out
    assert "[40002]: \t0x6E53" in out
    assert "[40003]: \t0x0001" in out  # model 1 follows
    assert "[40004]: \t0x0042" in out  # ... with 66 registers
    smap = site.sunspec_map("bess-1")
    soc = smap.point(713, "SoC")
    rc, out, err = await _run(
        mbpoll,
        "-m",
        "tcp",
        "-a",
        "1",
        "-p",
        port,
        "-r",
        str(soc.address + 1),
        "-c",
        "1",
        "-1",
        "127.0.0.1",
    )
    assert rc == 0, err
    assert f"[{soc.address + 1}]: \t500" in out  # 50.0 % with SoC_SF -1
    # a register that does not exist: mbpoll reports the illegal data address exception
    rc, out, err = await _run(
        mbpoll,
        "-m",
        "tcp",
        "-a",
        "1",
        "-p",
        port,
        "-r",
        "30001",
        "-c",
        "1",
        "-1",
        "127.0.0.1",
    )
    assert "Illegal data address" in out + err


def _ua_tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        service_missing(f"{name} (asyncua CLI) is not installed")
    return str(path)


async def test_asyncua_tools_browse_read_and_write_the_chiller(hvac_site: SimSite) -> None:
    url = hvac_site.endpoint("chiller-1").endpoint
    assert url is not None
    chiller = hvac_site.chiller("chiller-1")
    assert isinstance(chiller, Chiller)
    rc, out, err = await _run(_ua_tool("uals"), "-u", url, "-n", "ns=2;s=chiller-1", "-l")
    assert rc == 0, err
    for node in ("RoomTemp", "SupplyTemp", "Power", "COP", "Setpoint", "PowerLimit"):
        assert f"ns=2;s=chiller-1.{node}" in out
    rc, out, err = await _run(_ua_tool("uaread"), "-u", url, "-n", "ns=2;s=chiller-1.RoomTemp")
    assert rc == 0, err
    assert float(out.strip()) == pytest.approx(chiller.room_c)
    rc, out, err = await _run(
        _ua_tool("uawrite"), "-u", url, "-n", "ns=2;s=chiller-1.Setpoint", "-t", "double", "22.5"
    )
    assert rc == 0, err
    assert chiller.setpoint_c == 22.5
    rc, out, err = await _run(_ua_tool("uaread"), "-u", url, "-n", "ns=2;s=chiller-1.Setpoint")
    assert float(out.strip()) == 22.5
    # the wrong type: BadTypeMismatch; out of range: BadOutOfRange; the plant keeps running
    rc, out, err = await _run(
        _ua_tool("uawrite"), "-u", url, "-n", "ns=2;s=chiller-1.Setpoint", "-t", "string", "cold"
    )
    assert rc != 0
    assert "BadTypeMismatch" in out + err
    rc, out, err = await _run(
        _ua_tool("uawrite"), "-u", url, "-n", "ns=2;s=chiller-1.Setpoint", "-t", "double", "99"
    )
    assert rc != 0
    assert "BadOutOfRange" in out + err
    assert chiller.setpoint_c == 22.5
