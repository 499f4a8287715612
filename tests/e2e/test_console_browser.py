"""The web console in a real browser (Debian's chromium through Playwright) against the
whole demo: broker, simulated park, hub and agent, as `vpp demo` runs them.

One walk through the operator's workspace: log in, create an instance from a template,
drag two resources into a VPP and watch the unsaved aggregate change, dispatch a battery
and watch its actual power move on the monitoring wall without a reload, switch to
English, and a 401 sending the user back to the login page with a message. A screenshot of
every page lands in ``test-artifacts/console/`` (gitignored).
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from lingtan.broker import mosquitto_binary
from lingtan.demo import DemoOptions, start_demo
from tests.support import SAFETY_TIMEOUT, service_missing

PASSWORD = "demo-password-1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = int(SAFETY_TIMEOUT * 1000)

pytestmark = pytest.mark.slow


def _number(text: str) -> float:
    """A power as the console prints it (any locale's grouping, a minus, a unit)."""
    cleaned = text.replace("\u2212", "-").replace(",", "").replace("\u00a0", "")
    found = re.search(r"-?\d+(\.\d+)?", cleaned)
    assert found is not None, text
    return float(found.group())


async def test_an_operator_works_through_the_console(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        service_missing("Debian's chromium is not installed (apt-get install chromium)")
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        service_missing("playwright is not installed (pip install playwright)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    options = DemoOptions(workdir=tmp_path / "demo", port=0, speed=10.0, password=PASSWORD)
    async with (
        asyncio.timeout(SAFETY_TIMEOUT * 11),  # a deadlock guard: ~35 s to start under coverage
        start_demo(options, Console(file=io.StringIO(), width=200)) as demo,
        async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 1440, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(WAIT_MS)
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )
            external: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(demo.hub_url) else external.append(r.url),
            )

            async def shot(name: str) -> None:
                await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

            # --- login (Chinese by default); the session survives a reload
            await page.goto(demo.hub_url + "/")
            await expect(page.get_by_test_id("login-form")).to_be_visible()
            await expect(page.get_by_test_id("login-submit")).to_have_text("登录")
            await shot("01-login")
            await page.fill("input[name=username]", "demo")
            await page.fill("input[name=password]", "wrong-password")
            await page.get_by_test_id("login-submit").click()
            await expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")
            await page.fill("input[name=password]", PASSWORD)
            await page.get_by_test_id("login-submit").click()
            await expect(page.get_by_test_id("nav-wall")).to_have_text("监控大屏")
            await expect(page.get_by_test_id("whoami")).to_contain_text("demo")
            await page.reload()
            await expect(page.get_by_test_id("nav-builder")).to_be_visible()  # admin sees all

            # --- the wall fills from the push stream
            await expect(page.get_by_test_id("wall-edges")).to_contain_text("1 / 1")
            await shot("02-wall")

            # --- create an instance from a template (form generated from its schema)
            await page.get_by_test_id("nav-templates").click()
            await page.get_by_test_id("template-battery_storage").click()
            await page.get_by_test_id("instance-name").fill("console-bess")
            await page.get_by_test_id("instance-capacity").fill("80")
            await page.get_by_test_id("param-rated_kw").fill("")
            await page.get_by_test_id("instance-create").click()
            await expect(page.get_by_test_id("instance-form")).to_contain_text("rated_kw")
            await page.get_by_test_id("param-rated_kw").fill("80")
            await page.get_by_test_id("param-rated_kwh").fill("160")
            await page.get_by_test_id("instance-create").click()
            await expect(page.get_by_test_id("templates-message")).to_contain_text("console-bess")
            await shot("03-templates")
            # a custom template, then a new version of it from the same editor
            form = page.get_by_test_id("template-form")
            await page.get_by_test_id("template-name").fill("Console heat pump")
            await page.get_by_test_id("template-type").fill("console_heat_pump")
            await form.locator("select").first.select_option("FLEXIBLE")
            await page.get_by_test_id("template-add-param").click()
            row = page.get_by_test_id("param-row-0").locator("input")
            await row.nth(0).fill("cop")
            await row.nth(2).fill("1")
            await row.nth(3).fill("8")
            await row.nth(4).fill("3.5")
            await page.get_by_test_id("template-save").click()
            await expect(page.get_by_test_id("templates-message")).to_contain_text(
                "Console heat pump"
            )
            await page.get_by_test_id("template-edit").click()
            await page.get_by_test_id("template-add-param").click()
            await page.get_by_test_id("param-row-1").locator("input").nth(0).fill("rated_kw")
            await page.get_by_test_id("template-save").click()
            await expect(page.get_by_test_id("templates-message")).to_contain_text("2.0")
            await expect(page.get_by_test_id("instance-form")).to_contain_text("cop")
            await shot("03b-template-version")

            # --- resources: search, live status, detail with realtime values and history
            await page.get_by_test_id("nav-resources").click()
            await page.get_by_test_id("resource-search").fill("console-bess")
            await expect(page.get_by_test_id("resource-row-console-bess")).to_be_visible()
            await page.get_by_test_id("resource-search").fill("")
            await expect(page.get_by_test_id("resource-row-park-a/bess-1")).to_contain_text("在线")
            await shot("04-resources")
            await page.get_by_test_id("resource-row-park-a/bess-1").get_by_role("link").click()
            await expect(page.get_by_test_id("detail-title")).to_have_text("park-a/bess-1")
            await expect(page.get_by_test_id("detail-power")).to_contain_text("kW")
            await shot("05-resource-detail")

            # --- VPP builder: drag two resources in, the aggregate changes before saving
            await page.get_by_test_id("nav-builder").click()
            await page.get_by_test_id("builder-new-name").fill("Console VPP")
            await page.get_by_test_id("builder-create").click()
            await expect(page.get_by_test_id("builder-message")).to_contain_text("Console VPP")
            total = page.get_by_test_id("agg-total")
            await expect(total).to_have_text(re.compile(r"^0 kW$"))
            members = page.get_by_test_id("builder-members")
            await page.get_by_test_id("pool-park-a/bess-2").drag_to(members)
            await expect(page.get_by_test_id("member-park-a/bess-2")).to_be_visible()
            await expect(total).not_to_have_text(re.compile(r"^0 kW$"))
            after_one = _number(await total.inner_text())
            await page.get_by_test_id("builder-pool-search").fill("pv-1")  # narrow the pool
            await expect(page.get_by_test_id("pool-park-a/pv-2")).to_have_count(0)
            await page.get_by_test_id("pool-park-a/pv-1").drag_to(members)
            await expect(page.get_by_test_id("member-park-a/pv-1")).to_be_visible()
            await expect(page.get_by_test_id("agg-members")).to_contain_text("/ 2")
            after_two = _number(await total.inner_text())
            assert 0 < after_one < after_two, (after_one, after_two)
            await expect(page.get_by_test_id("builder-dirty")).to_be_visible()
            # both are in the demo VPP already at ratio 1: shown inline with a fix
            await expect(page.get_by_test_id("builder-conflicts")).to_contain_text("资源超额分配")
            await shot("06-builder")
            await page.get_by_test_id("builder-save").click()
            await expect(page.get_by_test_id("builder-message")).to_contain_text("已保存")

            # --- dispatch a battery, follow it live on the wall
            await page.get_by_test_id("nav-dispatch").click()
            await page.get_by_test_id("dispatch-vpp").select_option(label="Demo VPP")
            await page.get_by_test_id("dispatch-resource").select_option(label="park-a/bess-1")
            await page.get_by_test_id("dispatch-power").fill("-120")
            await page.get_by_test_id("dispatch-send").click()
            await expect(page.get_by_test_id("dispatch-message")).to_be_visible()
            await shot("07-dispatch")
            await page.get_by_test_id("nav-wall").click()
            actual = page.get_by_test_id("wall-dispatch").get_by_test_id("wall-actual").first
            await expect(actual).to_be_visible()
            navigations: list[str] = []
            page.on("framenavigated", lambda f: navigations.append(f.url))
            for _ in range(int(SAFETY_TIMEOUT * 3 / 0.25)):
                text = await actual.inner_text()
                if text != "—" and abs(_number(text) + 120.0) < 5.0:
                    break
                await asyncio.sleep(0.25)
            assert abs(_number(await actual.inner_text()) + 120.0) < 5.0
            assert navigations == []  # pushed, not reloaded
            await shot("08-wall-dispatch")

            # --- park map and 3D view
            await page.get_by_test_id("nav-map").click()
            await expect(page.get_by_test_id("map-park-a/bess-1")).to_have_attribute(
                "data-status", "ONLINE"
            )
            await shot("09-map")
            await page.get_by_test_id("nav-park3d").click()
            await expect(page.get_by_test_id("park-3d").locator("canvas").first).to_be_visible()
            await page.wait_for_timeout(500)
            await shot("10-park3d")

            # --- English
            await page.get_by_test_id("locale").select_option("en")
            await expect(page.get_by_test_id("nav-resources")).to_have_text("Resources")
            await page.get_by_test_id("nav-wall").click()
            await expect(page.get_by_role("heading", name="Monitoring wall")).to_be_visible()
            await shot("11-wall-english")

            # --- a 401 returns to the login page with a message
            await page.evaluate(
                """() => {
                    const s = JSON.parse(localStorage.getItem('lingtan.session'));
                    s.token = 'not-a-token';
                    localStorage.setItem('lingtan.session', JSON.stringify(s));
                }"""
            )
            await page.goto(demo.hub_url + "/resources")
            await expect(page.get_by_test_id("login-notice")).to_contain_text("session expired")
            await shot("12-login-expired")
            assert external == [], external  # every asset is served by the hub
            # The only errors on the console: the failed login and the bad token's 401s.
            unexpected = [p for p in problems if "401" not in p]
            assert unexpected == [], unexpected

            # --- a viewer sees only what a viewer may use
            async with httpx.AsyncClient(base_url=demo.hub_url, timeout=SAFETY_TIMEOUT) as http:
                login = await http.post(
                    "/api/v1/auth/login", json={"username": "demo", "password": PASSWORD}
                )
                made = await http.post(
                    "/api/v1/users",
                    json={"username": "watcher", "password": "watcher-pw-1", "role": "viewer"},
                    headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                )
                assert made.status_code == 201, made.text
            viewer = await (
                await browser.new_context(viewport={"width": 1440, "height": 900})
            ).new_page()
            viewer.set_default_timeout(WAIT_MS)
            await viewer.goto(demo.hub_url + "/builder")
            await viewer.fill("input[name=username]", "watcher")
            await viewer.fill("input[name=password]", "watcher-pw-1")
            await viewer.get_by_test_id("login-submit").click()
            await expect(viewer.get_by_test_id("nav-wall")).to_be_visible()
            await expect(viewer.get_by_test_id("nav-builder")).to_have_count(0)
            await expect(viewer.get_by_test_id("nav-dispatch")).to_have_count(0)
            assert viewer.url.endswith("/wall")  # /builder is not a viewer's page
            await viewer.get_by_test_id("nav-templates").click()
            await expect(viewer.get_by_test_id("template-list")).to_be_visible()
            await expect(viewer.get_by_test_id("instance-form")).to_have_count(0)
            await viewer.screenshot(path=str(ARTIFACTS / "13-viewer.png"), full_page=True)
        finally:
            await browser.close()
