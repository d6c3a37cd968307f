"""The pages in a real headless Chromium: a customer on /demo, a servicer on /console,
a supervisor on /dashboard, through the IM simulator and the CS server.

The pictures in docs/ come from the tests that show more of each page:
test_demo_page.py, test_console.py and test_dashboard.py (each names its command).
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import make_config, start_stack, tokens_file
from transport.edge.auth import DemoTokens
from transport.http.client import JsonClient

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")

ALICE, BOSS = "alice-console-token", "boss-dashboard-token"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(redis_url, tmp_path):
    tokens = tokens_file(tmp_path / "tokens.json", {ALICE: "alice"}, [BOSS])
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice", "capacity": 3}]), api_tokens_file=tokens,
        demo=True)
    yield stack
    stack.stop()


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def sign_in(page, url, token):
    page.goto(url)
    page.fill("#signin input", token)
    page.click("#signin button")
    page.wait_for_selector("#app:not(.hidden)")


def screenshot(page, tmp_path, name, keep):
    """A full-page picture with real content; with ``CS_SCREENSHOTS=docs`` and
    ``keep`` (the width the docs show), it becomes docs/<name>.png."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    shots = os.environ.get("CS_SCREENSHOTS")
    if shots and keep:
        shutil.copy(path, ROOT / shots / f"{name}.png")


def on_duty(console, site):
    sign_in(console, site.cs.url + "/console", ALICE)
    console.click("#on")
    console.wait_for_selector("#on.active")


def open_chat(browser, site, customer, viewport=None):
    """A customer on /demo, welcomed by the bot."""
    phone = browser.new_page(viewport=viewport)
    phone.goto(site.cs.url + "/demo")
    phone.fill("#customer", customer)
    phone.click("#open")
    phone.wait_for_selector(".bubble.in >> text=欢迎")
    return phone


def seated_customer(browser, site, customer, viewport):
    """A customer on /demo who asked the bot something, then for a person."""
    phone = open_chat(browser, site, customer, viewport)
    phone.fill("#text", "价格 price?")
    phone.click("#sendform button[type=submit]")
    phone.wait_for_selector(".bubble.in >> text=Our plan costs 10 yuan")
    phone.click("#human")
    phone.wait_for_selector(".bubble.in >> text=Alice will help you")
    return phone


def test_customer_servicer_and_supervisor_in_three_tabs(site, browser, tmp_path):
    base = site.cs.url
    console = browser.new_page()
    dashboard = browser.new_page()
    on_duty(console, site)
    phone = seated_customer(browser, site, "webcust", {"width": 390, "height": 760})  # a phone
    phone.fill("#text", "有人吗 anyone there?")  # unread: said to a person, not the bot
    phone.click("#sendform button[type=submit]")

    console.wait_for_selector("#sessions li[data-customer=webcust] .badge >> text=1")
    console.click("#sessions li[data-customer=webcust]")
    console.wait_for_selector(".bubble >> text=价格 price?")
    console.fill("#reply", "Hello from the console")
    console.click("#send")
    reply = phone.wait_for_selector(".bubble.in >> text=Hello from the console")
    assert "Alice" in reply.inner_text()  # the servicer's name from the message's extra

    history = JsonClient().get(base + "/api/customers/webcust/history?order=oldest",
                               {"Authorization": f"Bearer {BOSS}"}).body["messages"]
    relayed = [e for e in history if e["payload"].get("searchableContent") ==
               "Hello from the console"]
    assert relayed[0]["servicer"] == "alice"
    assert json.loads(relayed[0]["payload"]["extra"])["cs"]["name"] == "Alice"

    console.click("#end")
    phone.wait_for_selector("#stars:not(.hidden)")
    phone.click("#stars button[data-stars='5']")
    phone.wait_for_selector(".bubble.in >> text=Thank you for your rating")

    sign_in(dashboard, base + "/dashboard", BOSS)
    dashboard.wait_for_selector("td.rating[data-servicer=alice] >> text=5.0")
    dashboard.wait_for_selector("#recent td >> text=webcust")

    for name, page in (("demo", phone), ("console", console), ("dashboard", dashboard)):
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        assert (tmp_path / f"{name}.png").stat().st_size > 5000


def test_a_customers_markup_reaches_the_console_as_text(site, browser):
    console = browser.new_page()
    on_duty(console, site)
    phone = open_chat(browser, site, "mallory")
    phone.click("#human")
    phone.wait_for_selector(".bubble.in >> text=Alice will help you")
    phone.fill("#text", "<img src=x onerror=alert(1)> hi")
    phone.click("#sendform button[type=submit]")
    console.click("#sessions li[data-customer=mallory]")
    console.wait_for_selector(".bubble >> text=<img src=x onerror=alert(1)> hi")
    assert console.locator("#chat img").count() == 0  # shown as text, not HTML


def test_the_landing_page_signs_a_servicer_in_from_its_link(redis_url, browser, tmp_path):
    tokens = DemoTokens("boss-token", {"alice": ALICE})
    tokens.dump(tmp_path / "demo-tokens.json")
    stack = start_stack(redis_url, make_config(servicers=[{"id": "alice", "name": "Alice"}]),
                        api_tokens_file=tokens_file(tmp_path / "hashes.json", {ALICE: "alice"}),
                        demo=True,
                        demo_tokens_file=str(tmp_path / "demo-tokens.json"))
    try:
        page = browser.new_page()
        page.goto(stack.cs.url + "/")
        page.click("text=alice's console")
        page.wait_for_selector("#app:not(.hidden)")
        assert "token" not in page.url  # the fragment is dropped once used
    finally:
        stack.stop()


def test_pages_refuse_the_wrong_role(site, browser):
    page = browser.new_page()
    page.goto(site.cs.url + "/dashboard")
    page.fill("#signin input", ALICE)
    page.click("#signin button")
    page.wait_for_selector("#signin .error >> text=not a supervisor's")
    assert page.locator("#app.hidden").count() == 1


def test_demo_page_exists_only_in_demo_mode(redis_url):
    stack = start_stack(redis_url)
    try:
        assert JsonClient().get(stack.cs.url + "/demo").status == 404
        assert JsonClient().get(stack.cs.url + "/console").status == 200
    finally:
        stack.stop()
