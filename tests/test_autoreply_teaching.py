"""Learning from misses: the inbox a session files, teaching through the API,
lessons that survive a restart and a reload, the export, the bot's share."""

import json
import time
from pathlib import Path

import gevent
import pytest
import yaml

from actors.autoreply.engine import ANSWER, ASK_HUMAN, SUGGEST, AutoReply
from actors.autoreply.inbox import question_key
from actors.autoreply.knowledge import knowledge_from_dict, load_knowledge
from actors.messages import Payload
from conftest import ROBOT_ID, make_config, start_stack
from storage.teaching import TeachingStore
from transport.edge.api.autoreply import load_lessons
from transport.http.client import JsonClient
from waiting import wait_until
from world import World

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "config" / "knowledge.yaml"
AUTH = {"Authorization": "Bearer boss"}
UNKNOWN = "do you sell gift wrapping"


@pytest.fixture
def kb_world(store):
    world = World(store, make_config(idle_auto_secs=600))
    world.actors.autoreply.reload(load_knowledge(KNOWLEDGE))
    world.on_duty("alice")
    return world


def inbox(store):
    return {u.question: u for u in TeachingStore.of(store).unanswered()}


# The inbox, filed by sessions ----------------------------------------------------

def test_a_question_the_bot_cannot_place_is_filed_once_per_asking(kb_world, store):
    assert kb_world.actors.autoreply.reply(UNKNOWN).kind == SUGGEST
    kb_world.customer("c1", UNKNOWN)
    kb_world.customer("c2", UNKNOWN.upper() + "?")  # the same question, another form
    kb_world.deliver.wait_for("c1", 1)
    kb_world.deliver.wait_for("c2", 1)
    kb_world.settle()
    [(question, filed)] = inbox(store).items()
    assert question_key(question) == question_key(UNKNOWN)
    assert (filed.times, filed.reason, filed.servicer_answer) == (2, "unplaced", "")


def test_a_miss_taken_to_a_person_is_filed_with_the_servicers_answer(kb_world, store):
    kb_world.customer("c1", UNKNOWN)
    kb_world.customer("c1", "转人工")
    assert "Alice will help you" in kb_world.deliver.wait_for("c1", 2)[1]
    kb_world.servicer("alice", "c1", "Yes, 5 yuan per parcel.")
    kb_world.servicer("alice", "c1", "Anything else?")
    kb_world.deliver.wait_for("c1", 4)
    kb_world.settle()
    filed = inbox(store)[UNKNOWN]
    assert (filed.times, filed.reason) == (1, "then_human")  # one question, not two
    assert filed.servicer_answer == "Yes, 5 yuan per parcel."


def test_an_answer_followed_by_a_request_for_a_person_is_filed(kb_world, store):
    kb_world.customer("c1", "怎么退款")
    kb_world.customer("c1", "人工")
    kb_world.deliver.wait_for("c1", 2)
    kb_world.settle()
    assert inbox(store)["怎么退款"].reason == "then_human"


def test_answered_questions_and_bare_requests_for_a_person_are_not_filed(kb_world, store):
    kb_world.customer("c1", "怎么退款")
    kb_world.customer("c2", "转人工")
    kb_world.deliver.wait_for("c1", 1)
    kb_world.deliver.wait_for("c2", 1)
    kb_world.settle()
    assert inbox(store) == {}


def test_the_share_of_conversations_the_bot_ended_alone_is_counted(kb_world, store):
    leave = Payload(type=kb_world.config.content_types.leave, persistFlag=0)
    kb_world.customer("c1", "怎么退款")
    kb_world.customer("c1", leave)
    kb_world.customer("c2", "运费多少")
    kb_world.customer("c2", "人工")
    kb_world.customer("c2", leave)
    kb_world.customer("c3", leave)  # never asked the bot anything: not a conversation of it
    kb_world.settle()
    assert TeachingStore.of(store).conversations() == {"total": 2, "bot_only": 1}


# Teaching --------------------------------------------------------------------------

@pytest.fixture
def served(redis_url):
    stack = start_stack(redis_url, api_token="boss", knowledge_path=str(KNOWLEDGE))
    yield stack, JsonClient()
    stack.cs.store.delete_all()
    stack.stop()


def ask(stack, customer, text):
    stack.client.send(customer, ROBOT_ID, text)
    return stack.client.wait_for(customer)[0]["payload"]["searchableContent"]


def test_a_taught_variant_answers_at_once_and_leaves_the_inbox(served):
    stack, http = served
    assert not ask(stack, "c1", UNKNOWN).startswith("Shipping is free")
    listed = http.get(stack.cs.url + "/api/autoreply/unanswered", AUTH).body["unanswered"]
    assert [u["question"] for u in listed] == [UNKNOWN] and listed[0]["count"] == 1
    assert listed[0]["suggestion"]["id"]  # a likely entry is offered for one click
    taught = http.post(stack.cs.url + "/api/autoreply/entries/shipping_fee/variants",
                       {"question": UNKNOWN}, AUTH)
    assert taught.status == 200 and UNKNOWN in taught.body["questions"]
    assert ask(stack, "c2", UNKNOWN).startswith("Shipping is free")
    assert http.get(stack.cs.url + "/api/autoreply/unanswered", AUTH).body["unanswered"] == []


OFF_TOPIC = "what is the price of gold"  # the price entry's answer, before teaching
FOR_A_PERSON = "i'd rather sort this out with your billing team"


def test_a_question_taught_as_off_topic_or_for_a_person_acts_so_at_once(served):
    # Off-topic questions answered with an entry are the engine's largest class
    # of mistakes (docs/autoreply.md): a supervisor labels them from the inbox.
    stack, http = served
    assert ask(stack, "c1", OFF_TOPIC).startswith("Basic is 10 yuan a month")
    assert stack.cs.actors.autoreply.reply(FOR_A_PERSON).kind != ASK_HUMAN
    for question, label in ((OFF_TOPIC, "none"), (FOR_A_PERSON, "human")):
        taught = http.post(stack.cs.url + "/api/autoreply/examples",
                           {"question": question, "label": label}, AUTH)
        assert taught.status == 200 and taught.body == {"label": label, "question": question}
    assert stack.cs.actors.autoreply.reply(OFF_TOPIC).kind == SUGGEST
    assert stack.cs.actors.autoreply.reply(FOR_A_PERSON).kind == ASK_HUMAN
    assert stack.cs.actors.autoreply.reply("price").entry_id == "price"  # the entry still answers
    exported = knowledge_from_dict(yaml.safe_load(http.get(
        stack.cs.url + "/api/autoreply/knowledge", AUTH).raw.decode()))
    assert (OFF_TOPIC, "none") in exported.examples and FOR_A_PERSON in exported.human
    restarted = AutoReply(load_knowledge(KNOWLEDGE))
    load_lessons(restarted, TeachingStore.of(stack.cs.store))
    assert (restarted.reply(OFF_TOPIC).kind, restarted.reply(FOR_A_PERSON).kind) == (
        SUGGEST, ASK_HUMAN)


@pytest.mark.parametrize("body", [
    {"question": OFF_TOPIC, "label": "price"}, {"question": OFF_TOPIC},
    {"question": OFF_TOPIC, "label": ["none"]}])
def test_a_label_other_than_none_or_human_is_refused_naming_the_field(served, body):
    stack, http = served
    refused = http.post(stack.cs.url + "/api/autoreply/examples", body, AUTH)
    assert refused.status == 400 and refused.body["error"]["code"] == "bad_label"
    assert "label" in refused.body["error"]["message"]
    assert stack.cs.actors.autoreply.reply(OFF_TOPIC).entry_id == "price"


def test_a_new_entry_answers_at_once_and_is_in_the_export(served):
    stack, http = served
    entry = {"id": "gift_wrap", "questions": [UNKNOWN, "礼品包装"],
             "answer": {"zh": "可以，每件 5 元。", "en": "Yes, 5 yuan per item."}}
    created = http.post(stack.cs.url + "/api/autoreply/entries", entry, AUTH)
    assert created.status == 201 and created.body["entry"] == entry
    assert ask(stack, "c1", UNKNOWN) == "Yes, 5 yuan per item."
    assert ask(stack, "c2", "有礼品包装吗") == "可以，每件 5 元。"
    exported = http.get(stack.cs.url + "/api/autoreply/knowledge", AUTH)
    assert exported.status == 200
    knowledge = knowledge_from_dict(yaml.safe_load(exported.raw.decode()))
    assert knowledge.entry("gift_wrap").answer_in("en") == "Yes, 5 yuan per item."
    assert knowledge.entry("price") == load_knowledge(KNOWLEDGE).entry("price")


@pytest.mark.parametrize("path, body, status, code, field", [
    ("/api/autoreply/entries/no_such_entry/variants", {"question": "x"}, 404, "no_entry", ""),
    ("/api/autoreply/entries/price/variants", {"question": ""}, 400, "bad_question", "question"),
    ("/api/autoreply/entries/price/variants", {"question": "a\x00b"}, 400, "bad_question",
     "question"),
    ("/api/autoreply/entries/price/variants", {"question": "x" * 301}, 400, "bad_question",
     "question"),
    ("/api/autoreply/entries/price/variants", {"q": "x"}, 400, "bad_question", "question"),
    ("/api/autoreply/entries", {"id": "a", "questions": [], "answer": "x"}, 400, "bad_entry",
     "questions"),
    ("/api/autoreply/entries", {"id": "a", "questions": ["q"]}, 400, "bad_entry", "answer"),
    ("/api/autoreply/entries", {"questions": ["q"], "answer": "x"}, 400, "bad_entry", "id"),
    ("/api/autoreply/entries", {"id": "a b", "questions": ["q"], "answer": "x"}, 400,
     "bad_entry", "id"),
    ("/api/autoreply/entries", {"id": "a", "questions": ["q"], "answer": {"zh": ""}}, 400,
     "bad_entry", "answer"),
    ("/api/autoreply/entries", {"id": "price", "questions": ["q"], "answer": "x"}, 409,
     "entry_exists", ""),
    # The learned layer's own labels: an entry by either name took over the
    # off-topic examples and could no longer answer (found in review).
    ("/api/autoreply/entries", {"id": "none", "questions": ["visa?"], "answer": "x"}, 400,
     "bad_entry", "reserved"),
    ("/api/autoreply/entries", {"id": "human", "questions": ["visa?"], "answer": "x"}, 400,
     "bad_entry", "reserved"),
])
def test_a_bad_teaching_request_is_refused_and_the_engine_keeps_working(
        served, path, body, status, code, field):
    stack, http = served
    refused = http.post(stack.cs.url + path, body, AUTH)
    assert refused.status == status and refused.body["error"]["code"] == code
    assert field in refused.body["error"]["message"]
    assert ask(stack, "c1", "怎么退款").startswith("签收 7 天内")


def test_teaching_needs_a_supervisor(served):
    stack, http = served
    refused = http.post(stack.cs.url + "/api/autoreply/entries/price/variants",
                        {"question": "x"}, {})
    assert refused.status == 401 and refused.body["error"]["code"] == "bad_token"
    assert "x" not in stack.cs.actors.autoreply.knowledge.entry("price").questions


def test_the_stats_report_the_bots_share(served):
    stack, http = served
    stats = http.get(stack.cs.url + "/api/autoreply/stats", AUTH).body
    assert stats["conversations"] == {"total": 0, "bot_only": 0, "bot_share": None}


# Lessons survive ---------------------------------------------------------------------

def test_lessons_are_laid_on_the_file_after_a_restart_and_a_reload(store, tmp_path):
    teaching = TeachingStore.of(store)
    teaching.add_variant("shipping_fee", UNKNOWN, 1)
    teaching.add_variant("gone", "a variant of an entry no longer there", 2)
    teaching.save_entry({"id": "gift_wrap", "questions": ["礼品包装"], "answer": "可以。"})
    teaching.save_entry({"id": "broken", "questions": [], "answer": "x"})  # skipped, not fatal
    restarted = AutoReply(load_knowledge(KNOWLEDGE))
    load_lessons(restarted, teaching)
    assert restarted.reply(UNKNOWN).entry_id == "shipping_fee"
    assert (restarted.reply("礼品包装").kind, restarted.reply("礼品包装").entry_id) == (
        ANSWER, "gift_wrap")
    assert restarted.knowledge.entry("broken") is None
    edited = tmp_path / "kb.json"
    edited.write_text(json.dumps({"entries": [
        {"id": "shipping_fee", "questions": ["运费多少"], "answer": "Free."}]}))
    restarted.reload(load_knowledge(edited))
    assert restarted.reply(UNKNOWN).answer == "Free."  # the lesson outlived the reload
    assert restarted.reply("礼品包装").entry_id == "gift_wrap"


def test_an_entry_with_many_variants_still_matches_its_last_one():
    questions = [f"filler question number {i}" for i in range(40)] + ["礼品包装"]
    autoreply = AutoReply(knowledge_from_dict({"settings": {"blend": 0.0}, "entries": [
        {"id": "wrap", "questions": questions, "answer": "ok"},
        {"id": "other", "questions": ["运费多少"], "answer": "no"}]}))
    assert autoreply.reply("礼品包装").entry_id == "wrap"  # scored by the entry as a whole


def test_a_taught_entry_gives_way_to_a_file_entry_of_the_same_id(store):
    teaching = TeachingStore.of(store)
    teaching.save_entry({"id": "price", "questions": ["礼品包装"], "answer": "taught"})
    autoreply = AutoReply(load_knowledge(KNOWLEDGE))
    load_lessons(autoreply, teaching)
    assert autoreply.answer("price", "zh").startswith("基础版")


def test_the_inbox_holds_a_bounded_number_of_questions(store, monkeypatch):
    # Found in review: every distinct miss added fields that nothing trimmed.
    import storage.teaching

    monkeypatch.setattr(storage.teaching, "MAX_UNANSWERED", 3)
    teaching = TeachingStore.of(store)
    for n in range(3):
        assert teaching.record_unanswered(f"q{n}", f"Q{n}", "unplaced", n)
    assert not teaching.record_unanswered("q9", "Q9", "unplaced", 9)  # full: not filed
    assert teaching.record_unanswered("q1", "Q1", "unplaced", 10)  # a known one still counts
    counts = {u.key: u.times for u in teaching.unanswered()}
    assert counts == {"q0": 1, "q1": 2, "q2": 1}


def test_after_an_answer_that_did_not_do_the_inbox_suggests_another_entry(served):
    # The customer asked for a person right after the answer: one click on the
    # suggestion must not teach the bot the answer that failed again.
    stack, http = served
    question = "how long does a refund take"
    answered = stack.cs.actors.autoreply.reply(question)
    assert answered.kind == ANSWER
    ask(stack, "c1", question)
    ask(stack, "c1", "人工")
    [listed] = http.get(stack.cs.url + "/api/autoreply/unanswered", AUTH).body["unanswered"]
    assert (listed["question"], listed["reason"]) == (question, "then_human")
    assert listed["suggestion"] and listed["suggestion"]["id"] != answered.entry_id
    assert listed["suggestion"]["id"] == stack.cs.actors.autoreply.score(question).ranked[1]


def test_lessons_taught_at_once_are_all_kept(served):
    # The engine is built beside the event loop, so two supervisors' clicks
    # can overlap: each lesson must be laid on the one before, none lost.
    stack, http = served
    questions = [f"teach me number {i}" for i in range(4)]
    calls = [gevent.spawn(http.post, stack.cs.url + "/api/autoreply/examples",
                          {"question": q, "label": "none"}, AUTH) for q in questions]
    gevent.joinall(calls, raise_error=True)
    assert all(call.value.status == 200 for call in calls)
    assert set(stack.cs.actors.autoreply.lessons.variants) == {("none", q) for q in questions}
    assert all((q, "none") in stack.cs.actors.autoreply.knowledge.examples for q in questions)


def test_the_event_loop_keeps_turning_while_a_lesson_is_built(served):
    stack, _ = served
    autoreply = stack.cs.actors.autoreply
    ticks = []
    ticker = gevent.get_hub().loop.timer(0.0, 0.002)  # a turn of the loop every 2 ms, if free
    ticker.start(lambda: ticks.append(time.monotonic()))
    assert wait_until(lambda: ticks, timeout=1)
    started = time.monotonic()
    autoreply.teach(lambda lessons: lessons.with_variant("none", "how tall is the tower"))
    took = time.monotonic() - started
    ticker.close()
    during = [t for t in ticks if t >= started] + [started + took]
    gaps = [b - a for a, b in zip([started, *during], during, strict=False)]
    # Built on the event loop, the whole build was one gap (~0.4 s here).
    assert len(during) >= 5 and max(gaps) < took / 2, (took, max(gaps), len(during))


def test_after_a_picked_option_that_did_not_do_the_inbox_suggests_another_entry(served):
    # Found in review: the bot offered options, the customer picked the first,
    # then asked for a person; the inbox must not offer the picked one again.
    stack, http = served
    scored = stack.cs.actors.autoreply.score(UNKNOWN)
    assert stack.cs.actors.autoreply.reply(UNKNOWN).kind == SUGGEST
    ask(stack, "c1", UNKNOWN)
    ask(stack, "c1", "1")  # the first option is answered
    ask(stack, "c1", "人工")
    [listed] = http.get(stack.cs.url + "/api/autoreply/unanswered", AUTH).body["unanswered"]
    assert listed["reason"] == "then_human"
    assert listed["suggestion"] and listed["suggestion"]["id"] == scored.ranked[1]
