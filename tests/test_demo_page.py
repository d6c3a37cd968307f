"""The customer's side, /demo, in a real headless Chromium at phone width (375 px) and on
a desktop: the conversation survives a reload, suggested questions are buttons, "talk to
a person" follows the session, "end chat", stars with a comment, times, the servicer's
name and portrait, and nothing shown is ever HTML. Also the demo routes' scoping.

Regenerate docs/demo.png with
``CS_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_demo_page.py -k reload``.
"""

import json
import re

import pytest
import test_console
import test_web
from test_console import PORTRAIT
from test_web import CHROMIUM, ROOT, open_chat, screenshot

from conftest import ROBOT_ID, make_config, start_stack
from transport.http.client import JsonClient
from waiting import wait_until

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")
playwright_api = test_web.playwright_api
expect = playwright_api.expect
browser = test_web.browser  # the same headless Chromium fixture
viewport = test_console.viewport  # phone (375 px) and desktop

BOSS = "boss-demo-token"
HOSTILE = "Eve <img src=x onerror=alert(1)>"


@pytest.fixture
def site(redis_url):
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice 王", "portrait": PORTRAIT, "capacity": 1},
        {"id": "eve", "name": HOSTILE, "portrait": "", "capacity": 1}]),
        api_token=BOSS, demo=True, knowledge_path=str(ROOT / "config/knowledge.yaml"))
    yield stack
    stack.stop()


def on_duty(site, servicer):
    site.client.send(servicer, ROBOT_ID, "/on")
    assert "on duty" in site.client.wait_for(servicer)[0]["payload"]["searchableContent"]


def servicer_says(site, servicer, customer, text):
    site.client.send(servicer, site.settings.config.shadow_id(customer), text)


def say(phone, text):
    phone.fill("#text", text)
    phone.click("#sendform button[type=submit]")


def seated(phone, name="Alice"):
    phone.click("#human")
    expect(phone.locator(".bubble.from-notice", has_text=f"{name}")).to_be_visible()


def bubbles(phone):
    return [b.strip() for b in phone.locator("#chat .bubble").all_inner_texts()]


def test_a_reload_shows_the_conversation_so_far_once_and_it_goes_on(
        site, browser, viewport, tmp_path):
    on_duty(site, "alice")
    phone = open_chat(browser, site, "reloader", viewport)
    say(phone, "套餐价格")
    expect(phone.locator(".bubble.from-bot", has_text="10 元")).to_be_visible()
    seated(phone)
    say(phone, "我想升级套餐 upgrade")
    expect(phone.locator(".bubble.out", has_text="upgrade")).to_be_visible()
    servicer_says(site, "alice", "reloader", "您好，我是 Alice，马上为您办理。")
    expect(phone.locator(".bubble.from-person", has_text="马上为您办理")).to_be_visible()
    before = bubbles(phone)

    phone.reload()
    assert "customer=reloader" in phone.url  # the customer is remembered, and in the address
    expect(phone.locator(".bubble.from-person", has_text="马上为您办理")).to_be_visible()
    say(phone, "谢谢 thanks")  # the conversation goes on, with the same person
    expect(phone.locator(".bubble.out", has_text="thanks")).to_be_visible()
    assert wait_until(lambda: any(  # reached the servicer, as the Shadow
        "thanks" in m["payload"].get("searchableContent", "") for m in site.sim.inboxes["alice"]),
        timeout=5)
    after = bubbles(phone)
    assert after[:len(before)] == before  # the same messages, in the same order, once each
    assert len(after) == len(before) + 1
    for said in ("欢迎", "套餐价格", "10 元", "upgrade", "马上为您办理"):
        assert sum(said in text for text in after) == 1, said
    times = phone.locator("#chat .bubble time").all_inner_texts()
    assert len(times) == len(after) and all(re.search(r"\d\d:\d\d", t) for t in times)
    expect(phone.locator("#human")).to_be_hidden()  # still with a person, after the reload
    expect(phone.locator(".from-person img.avatar")).to_have_attribute("src", PORTRAIT)
    expect(phone.locator(".from-person .name")).to_have_text("Alice 王")

    screenshot(phone, tmp_path, "demo", keep=viewport["width"] < 500)  # the phone's


def test_a_tapped_suggestion_gets_its_answer_by_number_then_by_question(
        site, browser, viewport):
    phone = open_chat(browser, site, "tapper", viewport)
    options = phone.locator(".bubble.from-bot button.option")
    expect(options).to_have_count(3)  # config/knowledge.yaml: 3 suggestions under the welcome
    options.nth(0).click()  # price: the latest options, so the number is sent
    expect(phone.locator(".bubble.out .body").last).to_have_text("1")
    expect(phone.locator(".bubble.from-bot", has_text="10 元")).to_be_visible()
    options.nth(1).click()  # older options now: the question itself is sent
    expect(phone.locator(".bubble.out .body").last).to_have_text("什么时候发货")
    expect(phone.locator(".bubble.from-bot", has_text="48 小时")).to_be_visible()


def test_talk_to_a_person_hides_while_seated_or_queued_and_returns_when_it_ends(
        site, browser, viewport):
    on_duty(site, "alice")  # one seat
    first = open_chat(browser, site, "first", viewport)
    second = open_chat(browser, site, "second", viewport)
    expect(first.locator("#human")).to_be_visible()
    seated(first)
    expect(first.locator("#human")).to_be_hidden()
    second.click("#human")
    expect(second.locator(".bubble.from-notice", has_text="number 1")).to_be_visible()
    expect(second.locator("#human")).to_be_hidden()  # waiting in the queue

    first.click("#end")  # leave (10002): the seat goes to the next in the queue
    expect(first.locator("#stars")).to_be_visible()  # after a person, the rating
    expect(first.locator("#human")).to_be_visible()
    expect(first.locator("#end")).to_be_hidden()
    expect(second.locator(".bubble.from-notice", has_text="will help you")).to_be_visible()
    expect(second.locator("#human")).to_be_hidden()

    servicer_says(site, "alice", "second", "/end")
    expect(second.locator("#stars")).to_be_visible()
    expect(second.locator("#human")).to_be_visible()
    say(second, "几天能到")  # back with the bot: a new question, answered by it
    expect(second.locator(".bubble.from-bot", has_text="48 小时")).to_be_visible()
    expect(second.locator("#stars")).to_be_hidden()
    expect(second.locator("#human")).to_be_visible()


def test_end_chat_with_the_bot_shows_it_ended_and_a_question_starts_anew(
        site, browser, viewport):
    phone = open_chat(browser, site, "leaver", viewport)
    phone.click("#end")
    expect(phone.locator(".bubble.note", has_text="You left the chat")).to_be_visible()
    expect(phone.locator("#end")).to_be_hidden()
    say(phone, "多少钱")
    expect(phone.locator(".bubble.from-bot", has_text="10 元")).to_be_visible()
    expect(phone.locator("#end")).to_be_visible()


def test_the_rating_carries_stars_and_a_comment_to_the_ratings_api(site, browser, viewport):
    on_duty(site, "alice")
    phone = open_chat(browser, site, "rater", viewport)
    seated(phone)
    servicer_says(site, "alice", "rater", "/end")
    expect(phone.locator("#rating-ask")).to_contain_text("Alice 王")
    phone.fill("#comment", "很快 <b>fast</b>")
    phone.click("#stars button[data-stars='4']")
    expect(phone.locator(".from-notice", has_text="Thank you for your rating")).to_be_visible()
    expect(phone.locator(".bubble.out .comment")).to_have_text("很快 <b>fast</b>")
    expect(phone.locator(".bubble.out", has_text="★★★★☆")).to_be_visible()
    assert phone.locator("#chat b").count() == 0

    [request] = [m for m in site.sim.inboxes["rater"] if m["payload"]["type"] == 10005]
    session_id = json.loads(request["payload"]["content"])["sessionId"]
    rating = JsonClient().get(f"{site.cs.url}/api/ratings/{session_id}",
                              {"Authorization": f"Bearer {BOSS}"})
    assert rating.status == 200
    assert (rating.body["stars"], rating.body["comment"]) == (4, "很快 <b>fast</b>")


def test_a_hostile_servicer_name_and_message_are_shown_as_text(site, browser, viewport):
    alerts = []
    on_duty(site, "eve")
    phone = open_chat(browser, site, "victim", viewport)
    phone.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    seated(phone, "Eve")
    say(phone, "<img src=x onerror=alert(2)> mine")
    servicer_says(site, "eve", "victim", "<img src=x onerror=alert(3)> hi")
    reply = phone.locator(".bubble.from-person", has_text="onerror=alert(3)> hi")
    expect(reply).to_be_visible()
    expect(reply.locator(".name")).to_have_text(HOSTILE)
    expect(reply.locator(".avatar.initial")).to_have_text("E")  # no portrait: the initial
    expect(phone.locator(".bubble.out", has_text="onerror=alert(2)> mine")).to_be_visible()
    assert phone.locator("#chat img").count() == 0  # text, never HTML
    assert alerts == []


def test_a_demo_customer_is_read_and_played_only_with_its_key(site, browser):
    http, base = JsonClient(), site.cs.url
    opened = http.post(base + "/demo/api/open", {"customer": "keyed"}).body
    key = {"X-Demo-Key": opened["key"]}
    other = http.post(base + "/demo/api/open", {"customer": "other"}).body
    assert http.post(base + "/demo/api/send", {"customer": "keyed", "text": "hi"},
                     key).status == 200
    conversation = http.get(base + "/demo/api/conversation/keyed", key)
    assert [m["payload"].get("searchableContent") for m in conversation.body["messages"]][0] == "hi"

    assert http.get(base + "/demo/api/conversation/keyed").status == 403
    assert http.get(base + "/demo/api/conversation/keyed",
                    {"X-Demo-Key": other["key"]}).status == 403
    assert http.post(base + "/demo/api/send", {"customer": "keyed", "text": "x"}).status == 403
    taken = http.post(base + "/demo/api/open", {"customer": "keyed"})
    assert taken.status == 409 and taken.body["error"]["code"] == "customer_taken"
    assert http.post(base + "/demo/api/open", {"customer": "keyed", **opened}).status == 200
    assert http.post(base + "/demo/api/open", {"customer": "a/b"}).status == 400
    assert http.get(base + "/demo/api/inbox/keyed").status == 404  # the old open door

    page = browser.new_page()  # another browser: the server's refusal is shown
    page.goto(base + "/demo?customer=keyed")
    expect(page.locator("#error")).to_contain_text("open in another browser")
    assert page.locator("#chat .bubble").count() == 0


def test_a_conversation_cursor_that_is_not_ascii_digits_reads_from_the_start(site):
    # "²" passes str.isdigit; forwarded as it was, the simulator's URL could not carry it
    http, base = JsonClient(), site.cs.url
    key = {"X-Demo-Key": http.post(base + "/demo/api/open", {"customer": "cursor"}).body["key"]}
    assert http.post(base + "/demo/api/send", {"customer": "cursor", "text": "hi"},
                     key).status == 200
    for after in ("%B2", "-1", "x"):
        read = http.get(base + "/demo/api/conversation/cursor?after=" + after, key)
        assert read.status == 200, (after, read.body)
        assert read.body["messages"][0]["payload"]["searchableContent"] == "hi"
