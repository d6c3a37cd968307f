"""The supervisor's /dashboard in a real headless Chromium, at phone width (375 px) and on
a desktop, with a day of real sessions made through the IM simulator: it fits the phone,
the traffic chart has axes and clock times, the figures, a servicer's status changed
from the table, the date range, the transcripts; and the console's past sessions.

Regenerate docs/dashboard.png with
``CS_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_dashboard.py -k glance``.
"""

import json
import re
from datetime import date, timedelta

import pytest
import test_console
import test_web
from test_web import CHROMIUM, screenshot, sign_in

from conftest import ROBOT_ID, make_config, start_stack, tokens_file
from transport.http.client import JsonClient

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")
expect = test_web.playwright_api.expect

ALICE, BOSS = "alice-dash-token", "boss-dash-token"
MARKUP = "<img src=x onerror=window.pwned=1>"
browser = test_web.browser  # the same headless Chromium fixture
viewport = test_console.viewport  # phone (375 px) and desktop
WAIT_MS = 10_000  # the page polls every 3 s


@pytest.fixture
def site(redis_url, tmp_path):
    tokens = tokens_file(tmp_path / "tokens.json", {ALICE: "alice"}, [BOSS])
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice 王芳", "capacity": 2},
        {"id": "bob", "name": "Bob 李强", "capacity": 2},
        {"id": "carl", "name": "Carl 赵磊", "capacity": 1}]), api_tokens_file=tokens,
        demo=True)
    yield stack
    stack.stop()


def text(message):
    return message["payload"].get("searchableContent", "")


def served(site, customer, said, stars=None, comment=""):
    """The customer asks for a person, says something, alice answers and ends; the
    customer rates (or lets the rating go)."""
    c = site.client
    c.send(customer, ROBOT_ID, "人工")
    assert "Alice" in text(c.wait_for(customer)[0])
    c.send(customer, ROBOT_ID, said)
    c.send("alice", f"{customer}*Shadow", "您好，我来看看。Let me check.")
    assert "Let me check" in text(c.wait_for(customer)[0])
    c.send("alice", f"{customer}*Shadow", "/end")
    c.wait_for(customer, 2)
    if stars:
        c.send(customer, ROBOT_ID, payload={"type": 10004, "persistFlag": 3, "content": json.dumps(
            {"stars": stars, "comment": comment})})
        assert "Thank you" in text(c.wait_for(customer)[0])
    else:
        c.send(customer, ROBOT_ID, payload={"type": 10002, "persistFlag": 0})


def a_day_of_work(site):
    """Ended sessions (rated 5 with markup in the comment, rated 2, bot only), two
    customers with alice now, and one waiting in the queue."""
    c = site.client
    c.send("alice", ROBOT_ID, "/on")
    c.wait_for("alice")
    # (An id in Chinese cannot be a Shadow's: the id goes in an HTTP header.)
    served(site, "xiaoming", "订单还没到 my order is late", 5, "很好 " + MARKUP)
    served(site, "lucy", "退款 refund?", 2, "太慢 too slow")
    c.send("frank", ROBOT_ID, "价格 price?")
    assert "10 yuan" in text(c.wait_for("frank")[0])
    c.send("frank", ROBOT_ID, payload={"type": 10002, "persistFlag": 0})
    for customer in ("dave", "erin"):
        c.send(customer, ROBOT_ID, "人工")
        c.wait_for(customer)
    c.send(MARKUP, ROBOT_ID, "人工")
    assert "queue" in text(c.wait_for(MARKUP)[0])


def test_the_dashboard_fits_a_phone_and_shows_the_day_at_a_glance(
        site, browser, viewport, tmp_path):
    a_day_of_work(site)
    page = browser.new_page(viewport=viewport)
    sign_in(page, site.cs.url + "/dashboard", BOSS)

    expect(page.locator("#recent tr")).to_have_count(3, timeout=WAIT_MS)
    expect(page.locator("#queuetable tr")).to_have_count(1)
    expect(page.locator("#queuetable td >> text=" + MARKUP)).to_be_visible()
    expect(page.locator("#recent td.stars >> text=很好 " + MARKUP)).to_be_visible()
    # One of two rated sessions was 4-5 stars; the bot ended frank's alone.
    expect(page.locator("#satisfaction")).to_have_text("50% of 2 rated")
    expect(page.locator("#endedcount")).to_have_text("3")
    expect(page.locator("#botshare")).to_have_text(re.compile(r"^\d+% of \d+$"))
    expect(page.locator("#firstresponse")).to_have_text(re.compile(r"^\d+(\.\d+)? s$"))
    expect(page.locator("#missed")).to_have_text("0")
    assert page.locator("#recent tr:has-text('frank') >> text=bot only").count() == 1
    assert page.evaluate("window.pwned") is None and page.locator("#app img").count() == 0

    # The chart: counts per minute up the side, clock times along the bottom.
    expect(page.locator("#chart .xtick").first).to_have_text(re.compile(r"^\d\d:\d\d$"))
    assert page.locator("#chart .ytick").all_text_contents()[0] == "0"
    assert "msgs/min" in page.text_content("#chart")
    assert page.locator("#chart path.line").count() == 1

    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= viewport["width"], width  # nothing wider than the screen
    screenshot(page, tmp_path, "dashboard", keep=viewport["width"] > 1000)


def test_a_supervisor_sets_a_servicers_status_and_sees_a_refusal(site, browser, viewport):
    page = browser.new_page(viewport=viewport)
    sign_in(page, site.cs.url + "/dashboard", BOSS)
    bob = page.locator(".statusbuttons[data-servicer=bob]")
    expect(bob.locator("button.active")).to_have_text("Off", timeout=WAIT_MS)
    bob.locator("button[data-status=on]").click()
    expect(bob.locator("button.active")).to_have_text("On")
    status = JsonClient().get(site.cs.url + "/api/servicers/bob",
                              {"Authorization": f"Bearer {BOSS}"}).body["status"]
    assert status == "on"

    page.route("**/api/servicers/carl/status", lambda route: route.fulfill(
        status=409, content_type="application/json", body=json.dumps(
            {"error": {"code": "refused", "message": "carl is <b>busy</b>"}})))
    page.locator(".statusbuttons[data-servicer=carl] button[data-status=paused]").click()
    expect(page.locator("#statuserror")).to_have_text("carl: carl is <b>busy</b>")


def test_the_date_range_filters_the_sessions_and_a_bad_one_shows_the_servers_message(
        site, browser):
    a_day_of_work(site)
    page = browser.new_page()
    sign_in(page, site.cs.url + "/dashboard", BOSS)
    expect(page.locator("#recent tr")).to_have_count(3, timeout=WAIT_MS)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    page.fill("#to", yesterday)
    expect(page.locator("#rangeerror")).to_have_text("from must not be after to")
    page.fill("#from", yesterday)
    expect(page.locator("#recent tr")).to_have_count(0)
    expect(page.locator("#satisfaction")).to_have_text("–")
    expect(page.locator("#endedcount")).to_have_text("0")
    expect(page.locator("#rangeerror")).to_have_text("")


def test_a_session_opens_its_own_transcript_only(site, browser, viewport):
    c = site.client
    c.send("alice", ROBOT_ID, "/on")
    c.wait_for("alice")
    served(site, "repeat", "first visit 第一次", 4, "ok")
    served(site, "repeat", "second visit 第二次")
    page = browser.new_page(viewport=viewport)
    sign_in(page, site.cs.url + "/dashboard", BOSS)
    expect(page.locator("#recent tr")).to_have_count(2, timeout=WAIT_MS)
    page.locator("#recent tr:has-text('ok') a").click()
    page.wait_for_selector("#app:not(.hidden)")
    expect(page.locator(".bubble.customer >> text=first visit 第一次")).to_be_visible()
    expect(page.locator(".bubble.servicer >> text=Let me check.")).to_be_visible()
    expect(page.locator("#rating")).to_have_text("★★★★ — ok")
    assert page.locator("#chat >> text=second visit").count() == 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]


def test_the_consoles_customer_panel_lists_past_sessions_with_their_ratings(
        site, browser, viewport):
    c = site.client
    c.send("alice", ROBOT_ID, "/on")
    c.wait_for("alice")
    served(site, "back", "first visit", 5, "谢谢 " + MARKUP)
    served(site, "back", "second visit")
    c.send("back", ROBOT_ID, "人工")  # the third time, with alice now
    assert "Alice" in text(c.wait_for("back")[0])
    console = browser.new_page(viewport=viewport)
    sign_in(console, site.cs.url + "/console", ALICE)
    console.click("#sessions li[data-customer=back]")
    past = console.locator("#pastsessions li")
    expect(past).to_have_count(2, timeout=WAIT_MS)
    expect(past.nth(0)).to_contain_text("no rating")
    expect(past.nth(1)).to_contain_text("★★★★★ 谢谢 " + MARKUP)
    assert console.locator("#past img").count() == 0
    assert console.evaluate("window.pwned") is None
    past.nth(1).locator("a").click()
    expect(console.locator(".bubble.customer >> text=first visit")).to_be_visible()
    assert console.locator("#chat >> text=second visit").count() == 0
    assert console.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
