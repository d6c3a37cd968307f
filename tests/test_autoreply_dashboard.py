"""The dashboard's bot inbox in a real browser: a missed question is shown
with its likely entry, and one click teaches it."""

import shutil
from pathlib import Path

import pytest

from actors.autoreply.engine import SUGGEST
from conftest import ROBOT_ID, start_stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")

KNOWLEDGE = Path(__file__).resolve().parent.parent / "config" / "knowledge.yaml"
MISSED = "do you sell gift wrapping"


@pytest.fixture
def served(redis_url):
    stack = start_stack(redis_url, api_token="boss", knowledge_path=str(KNOWLEDGE))
    yield stack
    stack.cs.store.delete_all()
    stack.stop()


def teach_from_the_inbox(stack, question, choice):
    """Sign in to the dashboard, pick ``choice`` for ``question``'s row, click
    Teach, and wait for the row to leave the inbox; the note shown."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto(stack.cs.url + "/dashboard")
            page.fill("#signin input", "boss")
            page.click("#signin button")
            row = page.wait_for_selector(f'#inbox tr[data-question="{question}"]')
            assert "not placed" in row.inner_text()
            row.query_selector("select").select_option(choice)
            row.query_selector("button").click()
            page.wait_for_selector(f'#inbox tr[data-question="{question}"]', state="detached")
            return page.inner_text("#inboxnote")
        finally:
            browser.close()


def test_a_missed_question_is_taught_from_the_dashboard_in_one_click(served):
    stack = served
    assert stack.cs.actors.autoreply.reply(MISSED).kind == SUGGEST
    stack.client.send("c1", ROBOT_ID, MISSED)
    stack.client.wait_for("c1")
    assert "Taught" in teach_from_the_inbox(stack, MISSED, "shipping_fee")
    stack.client.send("c2", ROBOT_ID, MISSED)
    assert stack.client.wait_for("c2")[0]["payload"]["searchableContent"].startswith(
        "Shipping is free")


def test_a_missed_question_is_taught_as_off_topic_from_the_dashboard(served):
    stack = served
    stack.client.send("c1", ROBOT_ID, MISSED)
    stack.client.wait_for("c1")
    assert "off-topic" in teach_from_the_inbox(stack, MISSED, "none")
    assert (MISSED, "none") in stack.cs.actors.autoreply.knowledge.examples
