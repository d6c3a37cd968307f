"""The auto-reply engine: accuracy on a labelled set, suggestions, reload, webhook."""

import json
import random
import time
from dataclasses import replace
from pathlib import Path

import bottle
import gevent
import pytest

from actors.autoreply import engine as engine_module
from actors.autoreply.engine import ANSWER, ASK_HUMAN, SUGGEST, AutoReply
from actors.autoreply.knowledge import knowledge_from_dict, load_knowledge
from actors.autoreply.retrieval import Bm25Index
from actors.config import ConfigError, CsConfig
from actors.messages import Payload
from conftest import ROBOT_ID, make_config, start_stack
from transport.http.client import JsonClient
from transport.http.server import start_server
from transport.webhook import bot_client
from world import World

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "config" / "knowledge.yaml"
LABELLED = Path(__file__).parent / "data" / "autoreply_labelled.jsonl"
# The first labelled set, on which the threshold was once fitted (0.950); it
# stays as a regression set. The settings are now fitted on another set
# (test_autoreply_eval.py, docs/autoreply.md); this one scores 0.992 at them.
ACCURACY_FLOOR = 0.93


@pytest.fixture(scope="module")
def engine():
    return AutoReply(load_knowledge(KNOWLEDGE), CsConfig().human_words)


def decide(engine, question):
    result = engine.reply(question)
    if result.kind == ANSWER:
        return result.entry_id
    return "human" if result.kind == ASK_HUMAN else "none"


def test_accuracy_on_the_labelled_set_stays_above_the_floor(engine):
    items = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 100
    languages = {"zh": 0, "en": 0}
    for item in items:
        languages["zh" if any("\u4e00" <= c <= "\u9fff" for c in item["q"]) else "en"] += 1
    assert min(languages.values()) >= 40
    wrong = [(i["q"], i["expect"], decide(engine, i["q"])) for i in items
             if decide(engine, i["q"]) != i["expect"]]
    accuracy = 1 - len(wrong) / len(items)
    assert accuracy >= ACCURACY_FLOOR, wrong


def test_words_the_bot_never_saw_speak_for_off_topic(engine, monkeypatch):
    # 开票软件 for one's own company: no invoice of the shop's. Without the
    # unknown words' weight the invoice entry answered it.
    question = "我自己开的小公司，给客户开发票用什么软件好"
    assert engine.reply(question).kind == SUGGEST
    monkeypatch.setattr(engine_module, "UNKNOWN_WORD_WEIGHT", 0.0)
    assert engine.reply(question).entry_id == "invoice"


def test_a_paste_of_words_the_bot_never_saw_is_offered_the_options(engine, monkeypatch):
    rng = random.Random(3)
    paste = "运费多少 " + "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(400))
    for weight in (1.0, 50.0):  # the off-topic weight of ~550 unseen words stays finite
        monkeypatch.setattr(engine_module, "UNKNOWN_WORD_WEIGHT", weight)
        result = engine.reply(paste)
        assert result.kind == SUGGEST and result.confidence == 0.0


def test_a_near_miss_offers_the_closest_questions(engine):
    # A question the engine is not sure of (below the threshold, here raised
    # so that no example shipped later answers it) gets the nearest entries as
    # options, the likeliest first, never an answer.
    unsure = AutoReply(replace(engine.knowledge, threshold=0.95), CsConfig().human_words)
    result = unsure.reply("钱能回来一点吗")
    assert result.kind == SUGGEST and result.suggestions[0] == "refund"
    assert engine.score("钱能回来一点吗").ranked[0] == "refund"  # the shipped engine's best too


def test_a_typo_still_finds_its_answer(engine):
    assert engine.reply("refnud please").entry_id == "refund"


def test_chinese_is_matched_without_spaces(engine):
    result = engine.reply("我想知道你们的会员价格")
    assert (result.kind, result.entry_id) == (ANSWER, "price")


@pytest.mark.parametrize("text", ["我要找真人客服", "can I talk to a human agent", "转人工！"])
def test_asking_for_a_person_in_other_words(engine, text):
    assert engine.reply(text).wants_human


@pytest.mark.parametrize("data, message", [
    ({}, "entries"),
    ({"entries": [{"id": "a", "questions": [], "answer": "x"}]}, "questions"),
    ({"entries": [{"id": "a", "questions": ["q"], "answer": ""}]}, "answer"),
    ({"entries": [{"id": "a", "questions": ["q"], "answer": "x"}], "suggested": ["b"]},
     "suggested"),
    ({"entries": [{"id": "a", "questions": ["q"], "answer": "x"}],
      "settings": {"threshold": 3}}, "threshold"),
])
def test_bad_knowledge_is_refused_with_the_place_named(data, message):
    with pytest.raises(ConfigError, match=message):
        knowledge_from_dict(data)


def test_unparseable_file_names_the_file(tmp_path):
    bad = tmp_path / "kb.yaml"
    bad.write_text("entries: [oops: : :")
    with pytest.raises(ConfigError, match="kb.yaml: cannot be parsed"):
        load_knowledge(bad)


# In sessions ---------------------------------------------------------------------

@pytest.fixture
def kb_world(store):
    world = World(store, make_config(idle_auto_secs=600))
    world.actors.autoreply.reload(load_knowledge(KNOWLEDGE))
    return world


def test_welcome_lists_suggestions_and_a_number_picks_one(kb_world):
    kb_world.customer("c1", Payload(type=10001, persistFlag=0))
    [welcome] = kb_world.deliver.wait_for("c1", 1)
    assert "1. 多少钱" in welcome and "2. 什么时候发货" in welcome
    kb_world.customer("c1", "2")
    assert kb_world.deliver.wait_for("c1", 2)[1].startswith("付款后 48 小时内发货")


def test_misses_in_a_row_offer_a_person(kb_world):
    kb_world.customer("c1", "xyzzy")
    kb_world.customer("c1", "plugh")
    first, second = kb_world.deliver.wait_for("c1", 2)
    offer = kb_world.config.texts.offer_human
    assert offer not in first and offer in second


def test_answers_are_counted_with_the_requests_for_a_person_that_follow(kb_world, store):
    kb_world.customer("c1", "怎么退款")
    kb_world.customer("c1", "转人工")
    kb_world.customer("c2", "怎么退款")
    kb_world.deliver.wait_for("c1", 2)
    kb_world.deliver.wait_for("c2", 1)
    kb_world.settle()
    assert store.answer_stats()["refund"] == {"shown": 2, "then_human": 1}


def test_reload_swaps_the_knowledge_without_a_restart(redis_url, tmp_path):
    kb = tmp_path / "kb.json"
    kb.write_text(json.dumps({"entries": [{"id": "a", "questions": ["opening hours"],
                                           "answer": "Nine to five."}]}))
    stack = start_stack(redis_url, api_token="boss", knowledge_path=str(kb))
    http = JsonClient()
    auth = {"Authorization": "Bearer boss"}
    try:
        stack.client.send("c1", ROBOT_ID, "opening hours?")
        assert stack.client.wait_for("c1")[0]["payload"]["searchableContent"] == "Nine to five."
        kb.write_text(json.dumps({"entries": [{"id": "a", "questions": ["opening hours"],
                                               "answer": "Eight to eight."}]}))
        reloaded = http.post(stack.cs.url + "/api/autoreply/reload", {}, auth)
        assert reloaded.status == 200 and reloaded.body == {"entries": 1}
        stack.client.send("c1", ROBOT_ID, "opening hours?")
        assert stack.client.wait_for("c1")[0]["payload"]["searchableContent"] == "Eight to eight."
        kb.write_text("{broken")
        refused = http.post(stack.cs.url + "/api/autoreply/reload", {}, auth)
        assert refused.status == 400 and refused.body["error"]["code"] == "bad_knowledge"
        stack.client.send("c1", ROBOT_ID, "opening hours?")
        assert stack.client.wait_for("c1")[0]["payload"]["searchableContent"] == "Eight to eight."
        stats = http.get(stack.cs.url + "/api/autoreply/stats", auth).body["answers"]
        assert stats == [{"id": "a", "question": "opening hours", "shown": 3, "then_human": 0,
                          "human_rate": 0.0}]
    finally:
        stack.stop()


# Webhook -------------------------------------------------------------------------

@pytest.fixture
def bot():
    """A local stand-in for a company's bot: answers, answers slowly, or fails."""
    app = bottle.Bottle()
    calls = []

    @app.post("/bot")
    def answer():
        text = bottle.request.json["text"]
        calls.append(text)
        if "slow" in text:
            gevent.sleep(2)
            return {"answer": "too late"}
        if "fail" in text:
            raise bottle.HTTPError(500, "broken")
        if "person" in text:
            return {"handoff": True}
        return {"answer": f"bot says: {text}"}

    server = start_server(app)
    yield server.url + "/bot", calls
    server.stop()


@pytest.fixture
def bot_world(store, bot):
    url, _ = bot
    world = World(store, make_config(idle_auto_secs=600),
                  ask_bot=bot_client(url, timeout_secs=0.3))
    world.actors.autoreply.reload(load_knowledge(KNOWLEDGE))
    world.on_duty("alice")
    return world


def test_webhook_answer_is_used(bot_world):
    bot_world.customer("c1", "hello there")
    assert bot_world.deliver.wait_for("c1", 1) == ["bot says: hello there"]


def test_webhook_handoff_asks_for_a_person(bot_world):
    bot_world.customer("c1", "I want a person")
    assert "Alice will help you" in bot_world.deliver.wait_for("c1", 1)[0]


@pytest.mark.parametrize("question", ["how much does it cost, fail please",
                                      "how much does it cost, slow please"])
def test_webhook_failure_or_timeout_falls_back_to_knowledge(bot_world, question):
    started = time.monotonic()
    bot_world.customer("c1", question)
    [answer] = bot_world.deliver.wait_for("c1", 1, timeout=3)
    assert answer.startswith("Basic is 10 yuan")  # asked in English, answered in English
    assert time.monotonic() - started < 1.5  # the 0.3 s time-out, not the bot's 2 s


def test_a_slow_bot_does_not_block_the_session(bot_world):
    bot_world.customer("c1", "slow question")
    bot_world.customer("c1", "人工")  # handled while the bot is still thinking
    texts = bot_world.deliver.wait_for("c1", 1, timeout=1)
    assert "Alice will help you" in texts[0]
    gevent.sleep(0.5)
    bot_world.settle()
    texts = bot_world.deliver.texts_to("c1")
    assert all("too late" not in t and "Basic is" not in t for t in texts)


def test_a_request_for_a_person_never_reaches_the_bot(bot_world, bot):
    _, calls = bot
    bot_world.customer("c1", "人工")
    assert "Alice will help you" in bot_world.deliver.wait_for("c1", 1)[0]
    assert calls == []


@pytest.mark.parametrize("question", ["refund my order", "refund refund order", "退款怎么退款"])
def test_a_question_scores_against_its_copy_what_it_scores_against_itself(question):
    """The confidence's denominator (the query's own score) and the postings'
    weights are the same BM25 formula, whether a term comes once or more."""
    index = Bm25Index([question, "opening hours of the shop", "价格是多少", "delivery time"])
    ranking = index.search(question)
    assert ranking.hits[0][0] == 0
    assert ranking.hits[0][1] == pytest.approx(ranking.own_score, rel=1e-9)
