"""The auto-reply on phrasings written for these tests, in none of the labelled
sets: the parts that should carry over to questions nobody tuned against
(round three of issue 24; docs/autoreply.md)."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.autoreply import intent
from actors.autoreply.engine import ANSWER, ASK_HUMAN, AutoReply
from actors.autoreply.intent import asks_for_person, unexplained_person, without_declined
from actors.autoreply.knowledge import load_knowledge
from actors.autoreply.retrieval import STOPWORDS, stem
from actors.autoreply.spelling import Spelling
from actors.autoreply.synonyms import Synonyms
from actors.autoreply.text import normalise
from actors.config import CsConfig

KNOWLEDGE = Path(__file__).resolve().parent.parent / "config" / "knowledge.yaml"


@pytest.fixture(scope="module")
def engine():
    return AutoReply(load_knowledge(KNOWLEDGE), CsConfig().human_words)


# Asking for a person -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "真人客服", "能不能换个活人", "人工服务", "帮我转客服", "转人工处理一下",
    "i need a real human", "let me talk to staff", "operator please", "get me a supervisor",
    "can i speak to your manager", "anybody there?", "hello? anyone here",
    "is somebody around"])
def test_a_person_asked_for_in_new_words_is_recognised(engine, text):
    assert engine.reply(text).kind == ASK_HUMAN


@pytest.mark.parametrize("text", [
    "人工湖", "人工呼吸怎么做", "人工费多少", "人工智能会取代客服吗", "我是真人",
    "i am a human", "im a real person", "i'm a person not a robot", "不要人工服务",
    "不需要真人", "i don't need an agent", "does anyone actually read this",
    # declined by round seven's 叫人 ("别叫人了" asked before)
    "别叫人了，我自己看", "no need for a manager, all good"])
def test_a_compound_a_statement_about_oneself_or_a_declined_person_is_not_a_request(
        engine, text):
    assert engine.reply(text).kind != ASK_HUMAN


# An English word for a person asks for one only in a request's frame or nearly
# alone; Chinese gains 让/工作人员/负责人/投诉 (round five, docs/autoreply.md).
# None of these phrasings is in a labelled set.
@pytest.mark.parametrize("text", [
    "put me through to someone", "agent.", "useless. human please", "get me customer support",
    "can a team member call me back", "i'd prefer a real person", "someone help me pls",
    "让负责人来处理", "工作人员在吗", "我要投诉你们", "请让主管联系我", "客服妹妹在不在",
    "nice. human please", "is anybody real around to chat", "能安排个专员处理吗",
    # Found in review: a greeting or a time word elsewhere, a plural, a negation
    # in another clause, and verbs the first frame missed.
    "早上好，转人工", "good morning, i need a human", "morning! can i talk to an agent",
    "i need a human until this is fixed", "last night my order vanished, i need a human",
    "may i have a human", "i demand your manager", "can i talk to one of your agents",
    "no, i want a human", "not helpful. human please", "are any humans available",
    "human being please",
    # Round six: a verb of asking before "your people".
    "找你们公司的人处理", "叫你们的人出来", "让店里的人跟我联系",
    # Round seven's review: a negation near a manager or a rep is no decline.
    "this is not working i need a manager", "I want a manager, not a rep",
    "your rep was not helpful i want a manager", "我不要专员我要经理"])
def test_a_request_for_a_person_in_its_frame_is_recognised(text):
    assert asks_for_person(normalise(text)) is True


@pytest.mark.parametrize("text", [
    "is human resources hiring", "my dad is an insurance agent", "people say you are cheap",
    "are replies written by a person or a bot", "the last agent was lovely, thanks",
    "do people like the pro plan", "真人秀今晚播吗", "我自己就是客服哈", "your staff are great",
    "whats the latest i can reach support", "can i see the goods in person",
    "don't put me through to anybody", "之前那位客服很耐心，点赞", "is support open at night",
    # Found in review: a complaint declined or asked about, 请问, a pickup, a
    # person named in passing while the frame's verb is elsewhere.
    "我不是要投诉，只是问问运费", "不是投诉，问一下退款", "投诉处理需要多久", "请问负责人贵姓",
    "安排人上门取件", "i need an invoice for my manager", "is there a discount for people over 60",
    "my package is here but someone stole it", "the manager said i could get a refund"])
def test_a_word_for_a_person_outside_a_request_is_not_one(text):
    assert asks_for_person(normalise(text)) is not True


# Round six (docs/autoreply.md): each clause declines or asks on its own, more
# time words make a question about hours, and a person named in a phrasing no
# rule knows is the learned layer's to judge. None of these is in a labelled set.
@pytest.mark.parametrize("text", [
    "could a member of staff take this over", "put one of your staff on this pls",
    "hand me over to support pls", "can a real agent take over", "麻烦客服小姐姐帮我处理一下",
    "this needs someone from ur team", "escalate to support"])
def test_a_person_named_in_a_phrasing_no_rule_knows_is_judged_by_the_learned_layer(
        engine, text):
    assert asks_for_person(normalise(text)) is None  # no rule decides
    assert engine.reply(text).kind == ASK_HUMAN
    assert engine.wants_human(text)


@pytest.mark.parametrize("text", [
    "does the pro plan support 5 users", "is your support team outsourced",
    "my friend works in your customer service", "你们客服在哪个城市", "客服工资多少"])
def test_the_learned_layer_does_not_take_every_person_it_is_shown_for_a_request(
        engine, text):
    assert asks_for_person(normalise(text)) is None
    assert engine.reply(text).kind != ASK_HUMAN


@pytest.mark.parametrize("text", [
    "不找人工，随便看看", "don't need customer service, just browsing", "周日有客服吗",
    "初一有人工吗", "is anyone there at 10pm", "anyone around on saturdays?",
    "我是客服专员", "客服小姐姐很好，表扬一下", "your support team rocks"])
def test_a_declined_person_a_time_self_description_or_praise_is_no_request(engine, text):
    assert asks_for_person(normalise(text)) is not True
    assert engine.reply(text).kind != ASK_HUMAN


@pytest.mark.parametrize("text", ["不是投诉，我要找人工", "不要，人工", "不用机器人，转人工吧"])
def test_a_clause_that_declines_does_not_cancel_another_that_asks(text):
    assert asks_for_person(normalise(text)) is True


# Found in review of round six: requests its narrower rules missed, and takings back.
@pytest.mark.parametrize("text", [
    "人工客服在哪里", "怎么联系人工客服", "人工客服怎么找", "可以人工吗", "能人工吗",
    "人工客服有吗", "人工客服在线吗", "我想咨询人工客服", "真人回复我", "别废话转人工",
    "别bb转人工", "不用等了转人工",
    "懒得打字转人工", "特别着急转人工", "我不是很懂要人工", "请客服打我电话", "让客服加我微信",
    "i need an agent to change my phone number", "can someone from support call my phone number",
    "我要投诉你们的热线", "我是会员安排个专员给我", "我是会员帮我接客服",
    "i'd like to ask for a manager", "i want to ask for a real person", "hi agent",
    "hello customer service", "hi support team!!"])
def test_a_request_in_a_frame_the_narrower_rules_missed_is_recognised(text):
    assert asks_for_person(normalise(text)) is True


@pytest.mark.parametrize("text", [
    "转人工，算了，不用人工了", "人工？算了不要人工了，运费多少",
    "get me a human. actually no, i don't need a human",
    "agent? never mind, no agent needed, what's the price",
    "别给我转人工，直接告诉我怎么改地址就行", "不想跟机器人聊，也懒得等人工"])
def test_a_request_taken_back_in_a_later_clause_is_declined(text):
    assert asks_for_person(normalise(text)) is False


@pytest.mark.parametrize("text", [
    "add a team member", "remove a team member", "add someone to my plan", "gift to someone",
    "客服电话多少", "有没有客服邮箱", "what's the customer service phone number",
    "hello customer service, can i cancel my order?"])
def test_a_person_in_a_plan_a_contact_channel_or_a_greeting_is_no_request(engine, text):
    assert engine.reply(text).kind != ASK_HUMAN


@pytest.mark.parametrize("text", ["人工湖", "人工智能是什么", "我想学人工智能"])
def test_a_word_that_only_begins_with_rengong_says_nothing_about_people(text):
    assert asks_for_person(normalise(text)) is None


# Typos ---------------------------------------------------------------------------

SPELLING = Spelling(["i want a refund", "reset password", "change my delivery address",
                     "when will it ship", "what is the price", "i want my money back"],
                    stem, STOPWORDS | {"cant", "doesnt"})


def test_an_english_typo_is_put_right_against_the_knowledge_bases_words():
    assert SPELLING.correct("refnud pls") == "refund pls"
    assert SPELLING.correct("forgot my pasword") == "forgot my password"
    assert SPELLING.correct("wrong delivry adress") == "wrong delivery address"


@pytest.mark.parametrize("text", [
    "cant login", "doesnt work", "sing me a song", "prices", "shipping", "我要refund",
    "xyzzyq"])
def test_short_known_inflected_and_unknown_far_words_are_left_alone(text):
    assert SPELLING.correct(text) == text


@pytest.mark.parametrize("text, entry", [
    ("refnud", "refund"), ("recieve invoce", "invoice"), ("pasword resset", "password_reset")])
def test_a_typo_reaches_the_entry_it_names_with_the_confidence_of_the_right_word(
        engine, text, entry):
    # With trigrams alone these scored 0.19, 0.28 and 0.53: near the threshold.
    result = engine.reply(text)
    assert result.entry_id == entry and result.confidence > 0.55, result


# Off-topic -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["nice", "are you a bot", "lovely weather", "ice cream"])
def test_a_question_that_shares_only_pieces_of_words_with_an_entry_is_not_answered(
        engine, text):
    assert engine.reply(text).kind != ANSWER



@pytest.mark.parametrize("text", ["thank you very much", "ty so much", "多谢了"])
def test_thanks_alone_are_not_a_question(engine, text):
    assert engine.reply(text).kind != ANSWER


def test_a_question_after_thanks_is_answered_as_if_asked_alone(engine):
    assert engine.reply("thanks a lot, how do i get a refund")[:3] == \
        engine.reply("how do i get a refund")[:3]


@pytest.mark.parametrize("text", ["这是什么东西", "什么意思", "什么情况", "今天吃什么"])
def test_question_words_alone_do_not_make_an_answer(engine, text):
    assert engine.reply(text).kind != ANSWER


# The shop's vocabulary (config/knowledge.yaml's synonyms) --------------------------

@pytest.mark.parametrize("text, entry", [
    ("the screen is cracked", "warranty"), ("the charger doesn't work", "warranty"),
    ("维修怎么弄", "warranty"), ("is there a guarantee", "warranty"),
    ("i'm locked out", "password_reset"), ("can i pay by visa", "payment_methods"),
    ("i want a reimbursement", "refund"), ("我想撤回这个订单", "cancel_order"),
    ("how quickly do you deliver", "shipping_time")])
def test_the_shops_everyday_words_reach_the_entry_that_uses_other_ones(engine, text, entry):
    result = engine.reply(text)
    assert (result.kind, result.entry_id) == (ANSWER, entry), result


def test_a_word_mapped_to_itself_keeps_a_shorter_synonym_out_of_it():
    synonyms = Synonyms([("优惠券", "优惠券"), ("券", "优惠券")])
    assert synonyms.apply("还有券吗") == "还有优惠券吗"
    assert synonyms.apply("优惠券怎么用") == "优惠券怎么用"


# The hint (intent._HINT) is a one-search shortcut: it must never change an answer.
_FRAGMENTS = ["转", "人工", "真人", "客服", "找", "不要", "经理", "你们的人", "让", "来", "在吗",
              "投诉", "机器人", "工作人员", "human", "agent", "someone", "support", "talk to",
              "get me", "not", "customer service", "staff", " ", "，", "?", "please", "运费"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join))
def test_the_hint_never_changes_what_the_rules_say(joined):
    text = normalise(joined)
    hinted = (asks_for_person(text), unexplained_person(text), without_declined(text))
    hint = intent._HINT
    try:
        intent._HINT = re.compile("")  # every question searched in full
        assert (asks_for_person(text), unexplained_person(text),
                without_declined(text)) == hinted
    finally:
        intent._HINT = hint


# Written for round seven's test, in no labelled set: a person named in words
# no rule reads, which the person model judges; and the same words, or words
# left out of them on purpose (the boss, a member, 同事: the customer's own as
# often as the shop's), in questions that ask for nobody.
NEW_WORDS_ASKING = ["让你们店长来跟我说", "get me someone in charge please",
                    "can a specialist call me back", "请你们售后的同事处理一下", "找个能做主的人来",
                    "hoomans pls", "need an agnet now", "can an advisor look at my case",
                    "让售后来处理", "叫你们管事的出来", "any huamn here?"]
NEW_WORDS_NOT_ASKING = ["my colleague recommended your shop", "我同事也买了这个",
                        "which department handles invoices?", "店长推荐的款式有哪些",
                        "is the boss of the company rich", "what's the member price", "运营好辛苦",
                        "售后政策是什么", "how do i add a team member",
                        "do members get free shipping", "boss can you give me a discount",
                        "请帮我同事退款", "give me a magnet", "a member card please",
                        "help my teammate please", "the department store version please",
                        "an embossed one please"]


def test_a_person_in_words_no_rule_reads_is_left_to_the_model(engine):
    found = [q for q in NEW_WORDS_ASKING if engine.wants_human(q)]
    assert len(found) >= 9, set(NEW_WORDS_ASKING) - set(found)
    assert [q for q in NEW_WORDS_NOT_ASKING if engine.wants_human(q)] == []
