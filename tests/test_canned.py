"""Canned replies: "#name" in a Shadow chat, over real HTTP through the IM simulator."""

import json

import pytest

from actors.config import ConfigError, config_from_dict
from actors.session.canned import answer, replies_for
from conftest import ROBOT_ID, make_config, start_stack
from transport.http.client import JsonClient

TOKEN = "boss-token-0123456789"


@pytest.fixture
def stack(redis_url):
    stack = start_stack(redis_url, make_config(canned={
        "hi": "您好 {customer_name}，我是{servicer_name}。How can I help?",
        "bye": "Thank you, {customer_name}!"}), api_token=TOKEN)
    yield stack
    stack.stop()
    stack.cs.store.delete_all()


def seat_carol_with_alice(stack):
    c = stack.client
    c.put_user("carol", "Carol C")
    c.send("alice", ROBOT_ID, "/on")
    c.wait_for("alice")
    c.send("carol", ROBOT_ID, "human")
    c.wait_for("carol")
    c.wait_for("alice", 2)  # the seat notice and the history


def text_of(message):
    return message["payload"]["searchableContent"]


def test_hash_name_sends_the_filled_text_with_the_servicers_identity(stack):
    seat_carol_with_alice(stack)
    stack.client.send("alice", "carol*Shadow", "#hi")
    [reply] = stack.client.wait_for("carol")
    assert text_of(reply) == "您好 Carol C，我是Alice。How can I help?"
    assert json.loads(reply["payload"]["extra"])["cs"]["servicerId"] == "alice"


def test_hash_alone_lists_and_an_unknown_name_suggests_without_a_word_to_the_customer(stack):
    seat_carol_with_alice(stack)
    stack.client.send("alice", "carol*Shadow", "#")
    [listing] = stack.client.wait_for("alice")
    assert "#bye, #hi" in text_of(listing) and listing["sender"] == "carol*Shadow"
    stack.client.send("alice", "carol*Shadow", "#hii")
    [unknown] = stack.client.wait_for("alice")
    assert "#hii" in text_of(unknown) and "#hi" in text_of(unknown).split("closest")[-1]
    stack.client.send("alice", "carol*Shadow", "ok, a real answer")
    assert [text_of(m) for m in stack.client.wait_for("carol")] == ["ok, a real answer"]


def test_a_name_with_nothing_close_gets_the_names_there_are_not_closest_ones(stack):
    seat_carol_with_alice(stack)
    stack.client.send("alice", "carol*Shadow", "#zzzzzz")
    [unknown] = stack.client.wait_for("alice")
    assert text_of(unknown) == stack.cs.settings.config.texts.canned_unknown_any.format(
        name="zzzzzz", names="#bye, #hi")


def test_a_long_list_of_names_is_cut_short_and_says_how_many_more():
    texts = make_config().texts
    replies = {f"r{i:03d}": "text" for i in range(300)}
    listing = answer("", replies, "c", "s", texts).to_servicer
    fallback = answer("zzzzzz", replies, "c", "s", texts).to_servicer
    for said in (listing, fallback):
        assert "#r029" in said and "#r030" not in said and "(+270)" in said
        assert len(said) < 500


def test_unreadable_stored_replies_are_said_to_be_unreadable_not_missing():
    from storage import Store, connect

    nowhere = Store(connect("redis://127.0.0.1:1/0"), prefix="nowhere")
    texts = make_config().texts
    replies, readable = replies_for({}, nowhere, "alice")
    assert (replies, readable) == ({}, False)
    assert answer("hi", replies, "c", "s", texts, readable).to_servicer \
        == texts.canned_unavailable
    # With configured ones, those answer.
    configured, readable = replies_for({"hi": "Hello"}, nowhere, "alice")
    assert answer("hi", configured, "c", "s", texts, readable).to_customer == "Hello"


def test_with_no_canned_reply_at_all_the_servicer_is_told_how_to_add_one(redis_url):
    stack = start_stack(redis_url, make_config())
    try:
        seat_carol_with_alice(stack)
        none_yet = stack.cs.settings.config.texts.canned_none
        for command in ("#", "#hi"):
            stack.client.send("alice", "carol*Shadow", command)
            [told] = stack.client.wait_for("alice")
            assert text_of(told) == none_yet and "PUT /api/canned/" in none_yet
        stack.client.send("alice", "carol*Shadow", "a real word")  # nothing went before it
        assert [text_of(m) for m in stack.client.wait_for("carol")] == ["a real word"]
    finally:
        stack.stop()
        stack.cs.store.delete_all()


def test_a_servicers_own_canned_reply_wins_over_the_shared_one(stack):
    http = JsonClient()
    boss = {"Authorization": f"Bearer {TOKEN}"}
    put = http.request("PUT", stack.cs.url + "/api/canned/hi",
                       json.dumps({"text": "Shared hello"}).encode(), boss)
    assert put.status == 200 and put.body["shared"] is True
    too_long = http.request("PUT", stack.cs.url + "/api/canned/essay",
                            json.dumps({"text": "x" * 2001}).encode(), boss)
    assert too_long.status == 400 and "2000" in too_long.body["error"]["message"]
    seat_carol_with_alice(stack)
    stack.client.send("alice", "carol*Shadow", "#hi")
    assert text_of(stack.client.wait_for("carol")[0]) == "Shared hello"  # over the config
    from storage.canned import CannedStore

    CannedStore.of(stack.cs.store).put("alice", "hi", "Alice's own hello")
    stack.client.send("alice", "carol*Shadow", "#hi")
    assert text_of(stack.client.wait_for("carol")[0]) == "Alice's own hello"
    gone = http.request("DELETE", stack.cs.url + "/api/canned/nothing", None, boss)
    assert gone.status == 404


def test_a_canned_reply_with_a_placeholder_it_is_not_given_is_refused_at_start():
    with pytest.raises(ConfigError, match=r"canned.hi: unknown placeholder \{name\}"):
        config_from_dict({"canned": {"hi": "Hi {name}"}})


def test_help_in_a_shadow_chat_lists_the_servicers_commands_and_reaches_no_customer(stack):
    seat_carol_with_alice(stack)
    stack.client.send("alice", "carol*Shadow", "/help")
    [help_text] = stack.client.wait_for("alice")
    assert text_of(help_text) == stack.cs.settings.config.texts.shadow_help
    stack.client.send("alice", "carol*Shadow", "now a real word")  # comes after the help
    assert [text_of(m) for m in stack.client.wait_for("carol")] == ["now a real word"]


def test_help_to_the_cs_robot_is_said_to_each_in_their_part(stack):
    texts = stack.cs.settings.config.texts
    stack.client.send("dave", ROBOT_ID, "/help")
    assert text_of(stack.client.wait_for("dave")[0]) == texts.customer_help
    stack.client.send("alice", ROBOT_ID, "/help")
    assert text_of(stack.client.wait_for("alice")[0]) == texts.servicer_help
