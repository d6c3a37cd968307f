"""The dashboard's queue table in a real headless Chromium, at phone width and on a
desktop: a supervisor places a waiting customer with a servicer (issue 23)."""

import json

import pytest
import test_console
import test_web
from test_console import ALICE, BOB, BOSS, call
from test_web import CHROMIUM, open_chat, seated_customer, sign_in

from transport.http.client import JsonClient

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")

site, viewport = test_console.site, test_console.viewport  # alice, bob and a supervisor
browser = test_web.browser  # the same headless Chromium fixture
ROW = "#queuetable tr[data-customer=second]"


def test_a_supervisor_assigns_a_queued_customer_to_a_full_servicer_from_the_dashboard(
        site, browser, viewport):
    assert JsonClient().request(
        "PUT", site.cs.url + "/api/servicers/alice", json.dumps({"name": "Alice", "capacity": 1})
        .encode(), {"Authorization": f"Bearer {BOSS}", "Content-Type": "application/json"}
    ).status == 200
    assert call(site, ALICE, "/api/servicers/alice/status", {"status": "on"}).status == 200
    assert call(site, BOB, "/api/servicers/bob/status", {"status": "paused"}).status == 200
    seated_customer(browser, site, "first", viewport)
    phone = open_chat(browser, site, "second", viewport)
    phone.click("#human")
    phone.wait_for_selector(".bubble.in >> text=number 1 in the queue")

    dashboard = browser.new_page(viewport=viewport)
    sign_in(dashboard, site.cs.url + "/dashboard", BOSS)
    dashboard.wait_for_selector(ROW + " >> text=second")
    assert dashboard.is_hidden("#queueempty")
    # On duty or paused, full or not: the supervisor decides.
    assert dashboard.locator(ROW + " option").all_inner_texts() == [
        "Alice (1/1)", "Bob (0/3, paused)"]

    # Alice goes off duty while the supervisor is choosing her: the server's reason.
    dashboard.focus(ROW + " select")
    dashboard.select_option(ROW + " select", "alice")
    assert call(site, ALICE, "/api/servicers/alice/status", {"status": "off"}).status == 200
    dashboard.click(ROW + " button")
    dashboard.wait_for_selector("#queuenote.error >> text=Alice is off duty")
    dashboard.wait_for_selector(ROW + " option[value=alice]", state="detached")

    assert call(site, ALICE, "/api/servicers/alice/status", {"status": "on"}).status == 200
    dashboard.wait_for_selector(ROW + " option[value=alice]", state="attached")
    dashboard.select_option(ROW + " select", "alice")
    dashboard.click(ROW + " button")
    dashboard.wait_for_selector(ROW, state="detached")
    dashboard.wait_for_selector("#queueempty:visible")
    assert dashboard.inner_text("#queuenote") == "Assigned second to alice."
    phone.wait_for_selector(".bubble.in >> text=Alice will help you")
    alice = call(site, BOSS, "/api/servicers/alice").body
    assert (alice["customers"], alice["capacity"]) == (["first", "second"], 1)
