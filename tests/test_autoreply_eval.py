"""The auto-reply on questions it has never seen, and the parts that make it so:
normalisation, the intent layer for a person, synonyms, language, bad input."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.autoreply.engine import ANSWER, ASK_HUMAN, SUGGEST, AutoReply, Scored
from actors.autoreply.evaluation import (
    HUMAN_LABEL,
    NONE_LABEL,
    Labelled,
    cross_validate,
    fit,
    folds,
    judge,
    leave_one_set_out,
    load_labelled,
    report,
    without,
)
from actors.autoreply.intent import asks_for_person
from actors.autoreply.knowledge import knowledge_from_dict, load_knowledge
from actors.autoreply.retrieval import tokens
from actors.autoreply.synonyms import Synonyms
from actors.autoreply.text import language_of, normalise
from actors.config import ConfigError, CsConfig
from actors.session.dialogue import BotDialogue
from actors.texts import Texts

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "config" / "knowledge.yaml"
HELDOUT = Path(__file__).parent / "data" / "autoreply_heldout.jsonl"
LOCKBOX = Path(__file__).parent / "data" / "autoreply_lockbox.jsonl"
FRESH = Path(__file__).parent / "data" / "autoreply_fresh.jsonl"
BLIND = Path(__file__).parent / "data" / "autoreply_blind.jsonl"
BLIND2 = Path(__file__).parent / "data" / "autoreply_blind2.jsonl"
BLIND3 = Path(__file__).parent / "data" / "autoreply_blind3.jsonl"
BLIND4 = Path(__file__).parent / "data" / "autoreply_blind4.jsonl"
BLIND5 = Path(__file__).parent / "data" / "autoreply_blind5.jsonl"
# Measured (python benchmarks/autoreply_eval.py --lockbox --fresh --pooled),
# round three: held-out 10-fold 0.967 (en 0.973, zh 0.962); lockbox 0.988;
# fresh 0.958 (en 0.952, zh 0.965); the three pooled, 10-fold, 0.968 (en
# 0.967, zh 0.968); off-topic to a person 0 everywhere. All three sets are
# development data since round three (docs/autoreply.md): these floors guard
# against a regression, they are not the honest figure, which is the blind
# set's outside the repository. They leave room for a few questions each.
CV_FLOOR, CV_LANGUAGE_FLOOR, LOCKBOX_FLOOR = 0.95, 0.94, 0.93
FRESH_FLOOR, FRESH_LANGUAGE_FLOOR = 0.93, 0.92
POOLED_FLOOR, POOLED_LANGUAGE_FLOOR = 0.95, 0.94
OFF_TOPIC_TO_PERSON_CEILING = 0.02
# Round four (docs/autoreply.md): since config/knowledge.yaml ships every
# set's questions as examples, a set is judged only by an engine that never
# learnt from it (evaluation.without). Leave-one-set-out, the blind set
# scores 0.844 (zh 0.890, en 0.798; 6 of 44 off-topic to a person), against
# 0.757 for round three's engine; round five's person intent takes it to
# 0.899 (zh 0.945, en 0.853; none of 44 to a person), and the two later blind
# sets among the examples to 0.950: the floors keep that gain.
BLIND_LOSO_FLOOR, BLIND_OFF_TOPIC_CEILING = 0.93, 0.02


ENGINE = AutoReply(load_knowledge(KNOWLEDGE), CsConfig().human_words)


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def engine(knowledge):
    return AutoReply(knowledge, CsConfig().human_words)


def test_the_held_out_set_is_large_varied_and_apart_from_the_knowledge_base(knowledge):
    items, lockbox = load_labelled(HELDOUT), load_labelled(LOCKBOX)
    assert len(items) >= 300
    languages = [language_of(i.question) for i in items]
    assert min(languages.count("zh"), languages.count("en")) >= 100
    labels = [i.expect for i in items]
    assert all(labels.count(e.id) >= 10 for e in knowledge.entries)
    assert labels.count(HUMAN_LABEL) >= 30 and labels.count(NONE_LABEL) >= 30
    known = {normalise(q) for e in knowledge.entries for q in e.questions}
    known |= {normalise(q) for q in knowledge.human}
    copies = [i.question for i in items + lockbox if normalise(i.question) in known]
    # Only a few Traditional spellings of a variant (電子發票), there to test
    # the conversion; never a variant as the knowledge base writes it.
    assert len(copies) <= 5 and all(normalise(q) != q for q in copies), copies
    assert not {i.question for i in items} & {i.question for i in lockbox}
    fresh = load_labelled(FRESH)
    assert len(fresh) >= 120 and not {normalise(i.question) for i in fresh} & (
        known | {normalise(i.question) for i in items + lockbox})
    fresh_languages = [language_of(i.question) for i in fresh]
    assert abs(fresh_languages.count("zh") - fresh_languages.count("en")) <= len(fresh) // 10
    assert set(labels) <= {e.id for e in knowledge.entries} | {HUMAN_LABEL, NONE_LABEL}


def test_cross_validated_accuracy_meets_the_floors(knowledge):
    outcomes = cross_validate(knowledge, CsConfig().human_words, load_labelled(HELDOUT))
    r = report(outcomes)
    wrong = [(o.question, o.expect, o.got) for o in outcomes if o.got != o.expect]
    assert r.accuracy >= CV_FLOOR, wrong
    assert all(acc >= CV_LANGUAGE_FLOOR for acc, _ in r.by_language.values()), r.by_language
    assert r.off_topic_to_person <= OFF_TOPIC_TO_PERSON_CEILING


def test_the_three_sets_pooled_meet_the_floors_under_cross_validation(knowledge):
    items = [i for path in (HELDOUT, LOCKBOX, FRESH) for i in load_labelled(path)]
    r = report(cross_validate(knowledge, CsConfig().human_words, items))
    assert r.accuracy >= POOLED_FLOOR, r
    assert all(acc >= POOLED_LANGUAGE_FLOOR for acc, _ in r.by_language.values()), r.by_language
    assert r.off_topic_to_person <= OFF_TOPIC_TO_PERSON_CEILING


def test_fitting_the_blend_too_is_still_possible(knowledge):
    items = load_labelled(LOCKBOX)
    outcomes = cross_validate(knowledge, CsConfig().human_words, items, 5, (0.1, 0.9))
    assert {o.blend for o in outcomes} <= {0.1, 0.9}
    assert report(outcomes).accuracy >= 0.8


def unlearnt(knowledge, items):
    """The shipped engine without ``items`` among its examples."""
    return AutoReply(without(knowledge, items), CsConfig().human_words)


def test_the_lockbox_set_meets_its_floor(knowledge):
    items = load_labelled(LOCKBOX)
    r = report(judge(unlearnt(knowledge, items), items))
    assert r.accuracy >= LOCKBOX_FLOOR
    assert r.off_topic_to_person <= OFF_TOPIC_TO_PERSON_CEILING


def test_the_fresh_set_meets_its_floor(knowledge):
    items = load_labelled(FRESH)
    r = report(judge(unlearnt(knowledge, items), items))
    assert r.accuracy >= FRESH_FLOOR, r
    assert all(acc >= FRESH_LANGUAGE_FLOOR for acc, _ in r.by_language.values()), r.by_language
    assert r.off_topic_to_person <= OFF_TOPIC_TO_PERSON_CEILING


def test_the_blind_set_is_apart_from_the_others_and_its_figure_does_not_fall(knowledge):
    # Written by someone who never saw the engine; measured once per engine of
    # round three before it entered the repository (docs/autoreply.md). Its
    # figure is not a target met but a floor: a change must not lose ground.
    blind = load_labelled(BLIND)
    labels = {e.id for e in knowledge.entries} | {HUMAN_LABEL, NONE_LABEL}
    assert len(blind) >= 200 and {i.expect for i in blind} == labels
    others = {normalise(i.question) for path in (HELDOUT, LOCKBOX, FRESH)
              for i in load_labelled(path)}
    # One Traditional spelling of a lockbox question (客服幾點下班) slipped in: its
    # writer's check did not convert Traditional. Never a question as written.
    copies = [i.question for i in blind if normalise(i.question) in others]
    assert len(copies) <= 1 and all(normalise(q) != q for q in copies), copies
    r = report(judge(unlearnt(knowledge, blind), blind))
    assert r.accuracy >= 0.8, r
    assert r.off_topic_to_person <= BLIND_OFF_TOPIC_CEILING, r


# Each written blind to the engine, against config/knowledge.yaml alone (and
# the earlier sets, not to repeat them); measured once before it entered the
# repository, and judged here by an engine that did not learn from it (each is
# among the examples since). (set, earlier sets, Traditional copies of earlier
# questions that slipped past its writer's check, accuracy, each language,
# off-topic to a person.)
BLIND_SETS = [
    # 客服週末上班嗎, 有折扣嗎: that writer's check did not convert Traditional.
    (BLIND2, (HELDOUT, LOCKBOX, FRESH, BLIND), 2, 0.85, 0.83, 0.04),
    # Measured on round five's final engine: 0.867 (zh 0.865, en 0.868; none of
    # 50 off-topic to a person); round three's engine 0.690, round four's 0.823.
    (BLIND3, (HELDOUT, LOCKBOX, FRESH, BLIND, BLIND2), 0, 0.85, 0.85, 0.0),
    # Measured on round five's final engine: 0.860 (zh 0.862, en 0.858; 1 of 50
    # off-topic to a person); round three's engine 0.697, round four's 0.813.
    (BLIND4, (HELDOUT, LOCKBOX, FRESH, BLIND, BLIND2, BLIND3), 0, 0.84, 0.84, 0.02),
    # Measured on round five's final engine: 0.913 (zh 0.946, en 0.876; 3 of 48
    # off-topic to a person, 34 of 40 requests for a person recognised); its
    # errors then read for round six, whose engine scores it 0.946 unlearnt (zh
    # 0.976, en 0.910; none to a person, 38 of 40 recognised).
    (BLIND5, (HELDOUT, LOCKBOX, FRESH, BLIND, BLIND2, BLIND3, BLIND4), 0, 0.93, 0.9, 0.0),
]


@pytest.mark.parametrize("path, earlier, copies_allowed, floor, language_floor, to_person",
                         BLIND_SETS, ids=lambda v: v.stem if isinstance(v, Path) else None)
def test_a_later_blind_set_is_new_and_its_figure_does_not_fall(
        knowledge, path, earlier, copies_allowed, floor, language_floor, to_person):
    items = load_labelled(path)
    labels = {e.id for e in knowledge.entries} | {HUMAN_LABEL, NONE_LABEL}
    assert len(items) >= 300 and {i.expect for i in items} == labels
    others = {normalise(i.question) for other in earlier for i in load_labelled(other)}
    copies = [i.question for i in items if normalise(i.question) in others]
    assert len(copies) <= copies_allowed and all(normalise(q) != q for q in copies), copies
    r = report(judge(unlearnt(knowledge, items), items))
    assert r.accuracy >= floor, r
    assert r.off_topic_to_person <= to_person, r
    assert min(acc for acc, _ in r.by_language.values()) >= language_floor, r


def test_left_out_of_the_examples_the_blind_set_keeps_its_gain(knowledge):
    sets = {path.stem: load_labelled(path)
            for path in (HELDOUT, LOCKBOX, FRESH, BLIND, BLIND2, BLIND3, BLIND4)}
    judged = leave_one_set_out(knowledge, CsConfig().human_words, sets)
    assert set(judged) == set(sets)
    blind = report(judged[BLIND.stem])
    assert blind.accuracy >= BLIND_LOSO_FLOOR, blind
    assert blind.off_topic_to_person <= BLIND_OFF_TOPIC_CEILING, blind
    for name in (HELDOUT.stem, LOCKBOX.stem, FRESH.stem):
        assert report(judged[name]).accuracy >= 0.93, (name, report(judged[name]))


def test_a_set_left_out_is_out_of_the_examples_even_in_another_script(knowledge):
    items = [Labelled("運費怎麼算", "shipping_fee")]
    learnt = replace(knowledge, examples=(("运费怎么算", "shipping_fee"), ("退钱", "refund")))
    assert without(learnt, items).examples == (("退钱", "refund"),)


def test_the_shipped_examples_are_the_labelled_sets(knowledge):
    # The evaluation relies on it: a set is left out by taking its questions
    # out of the examples, so every set must be in them and nothing else.
    sets = [HELDOUT, LOCKBOX, FRESH, BLIND, BLIND2, BLIND3, BLIND5,
            *(Path(__file__).parent / "data" / f"autoreply_{name}.jsonl"
              for name in ("labelled", "extra1", "extra2"))]
    labelled = {(i.question, i.expect) for path in sets for i in load_labelled(path)}
    assert set(knowledge.examples) == labelled
    # The fourth blind set is kept out: never tuned on, it can still say whether
    # a change carries over (and 300 more examples cost ~10 µs a question).
    assert not {normalise(q) for q, _ in knowledge.examples} & {
        normalise(i.question) for i in load_labelled(BLIND4)}


def test_folds_deal_every_question_once_and_every_label_to_every_fold():
    items = [Labelled(f"q{i}", "ab"[i % 2]) for i in range(20)]
    dealt = folds(items, 5)
    assert sorted(i for fold in dealt for i in fold) == list(range(20))
    assert all({items[i].expect for i in fold} == {"a", "b"} for fold in dealt)


def test_the_threshold_is_fitted_on_the_training_questions_only():
    # Question 0 is right only at a threshold <= 0.3; question 1 (off-topic)
    # only above 0.5. Whichever is held out must not move the fit.
    items = [Labelled("q0", "a"), Labelled("q1", NONE_LABEL)]
    scored = {0.5: [Scored(("a",), 0.3), Scored(("a",), 0.5)]}
    assert fit(scored, items, [0]).threshold <= 0.3
    assert fit(scored, items, [1]).threshold > 0.5


# Matching ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "有没有活人啊", "can I talk to a real person please", "我不想跟机器人说话", "人呢",
    "叫你们经理来", "get me someone who can help", "我要找agent", "請轉人工"])
def test_new_ways_of_asking_for_a_person_are_recognised(engine, text):
    assert engine.reply(text).kind == ASK_HUMAN


@pytest.mark.parametrize("text", [
    "不要人工", "不用转人工了，我自己看", "no need for a human, thanks", "人工智能是什么",
    "are you a human being?", "我想当客服，怎么应聘"])
def test_a_declined_person_or_a_mere_mention_is_not_a_request(engine, text):
    assert engine.reply(text).kind != ASK_HUMAN


def test_a_question_behind_a_declined_person_is_still_answered(engine):
    assert engine.reply("不要转人工，告诉我运费多少").entry_id == "shipping_fee"


def test_when_people_are_there_is_the_business_hours_question(engine):
    assert asks_for_person(normalise("人工客服几点上班")) is None
    assert engine.reply("when can i reach an agent").entry_id == "business_hours"


@pytest.mark.parametrize("plain, written", [
    ("运费怎么算", "運費怎麼算"), ("订单查询", "訂單查詢"),
    ("when will it ship", "ＷＨＥＮ　ＷＩＬＬ　ＩＴ　ＳＨＩＰ"),
    ("refund", "re\u200bfund\x07")])
def test_traditional_full_width_and_control_characters_match_as_the_plain_form(
        engine, plain, written):
    assert engine.reply(written)[:3] == engine.reply(plain)[:3]
    assert engine.reply(plain).kind == ANSWER


@pytest.mark.parametrize("forms", [
    ("price", "prices", "priced"), ("charge", "charges", "charged", "charging"),
    ("delivery", "deliveries"), ("box", "boxes"), ("coupon", "coupons"), ("address", "address")])
def test_an_english_word_and_its_inflections_are_one_term(forms):
    words = {next(t for t in tokens(form) if t.startswith("w:")) for form in forms}
    assert len(words) == 1, words


def test_synonyms_rewrite_han_anywhere_and_english_only_whole_words():
    synonyms = Synonyms([("质保", "保修"), ("sale", "discount"), ("sign in", "log in")])
    assert synonyms.apply("质保多久") == "保修多久"
    assert synonyms.apply("is there a sale?") == "is there a discount?"
    assert synonyms.apply("wholesale price") == "wholesale price"
    assert synonyms.apply("i cant sign in") == "i cant log in"
    assert synonyms.apply("我要sale") == "我要discount"
    assert Synonyms([("c++", "cpp")]).apply("learn c++ now") == "learn cpp now"
    assert Synonyms([]).apply("质保") == "质保"


def test_synonyms_reach_an_entry_that_never_uses_the_customers_word(engine):
    assert engine.reply("质保多长时间").entry_id == "warranty"
    assert engine.reply("do you have a voucher").entry_id == "coupon"


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "\x00\x01\x02", "？？？", "a" * 100_000])
def test_empty_emoji_control_and_huge_questions_get_the_fallback(engine, text):
    result = engine.reply(text)
    assert result.kind == SUGGEST and result.suggestions == engine.suggested()


def test_a_huge_question_of_a_known_word_gets_the_fallback(engine):
    # "好" (fine) is a word of the off-topic examples: the learned layer calls
    # it off-topic, and the options are the nearest entries, not an answer.
    result = engine.reply("好" * 100_000)
    assert (result.kind, result.entry_id, result.confidence) == (SUGGEST, "", 0.0)
    assert result.suggestions and set(result.suggestions) <= {
        e.id for e in load_knowledge(KNOWLEDGE).entries}


# Language ------------------------------------------------------------------------

FEE = "满 99 包邮 / free over 99"
BILINGUAL = {
    "settings": {"threshold": 1.0},
    "entries": [
        {"id": "ship", "questions": ["什么时候发货", "when do you ship"],
         "answer": {"zh": "两天内发货。", "en": "We ship within two days."}},
        {"id": "fee", "questions": ["运费多少", "shipping fee"], "answer": FEE},
    ]}


def test_answers_come_in_the_language_of_the_question(engine):
    assert engine.reply("how much is it").answer.startswith("Basic is 10 yuan")
    assert engine.reply("这个多少钱").answer.startswith("基础版每月 10 元")
    assert engine.reply("我要refund").answer.startswith("签收 7 天内")  # mixed reads Chinese


def test_did_you_mean_options_are_in_the_customers_language():
    autoreply = AutoReply(knowledge_from_dict(BILINGUAL))
    bot = BotDialogue(autoreply, Texts())
    english = bot.from_knowledge("ship fee")
    assert "1. when do you ship" in english.text or "1. shipping fee" in english.text
    assert "什么时候发货" not in english.text and "运费多少" not in english.text
    assert bot.choice("1").text in ("We ship within two days.", FEE)
    chinese = BotDialogue(autoreply, Texts()).from_knowledge("发货运费")
    assert "什么时候发货" in chinese.text and "when do you ship" not in chinese.text


def test_an_entry_without_the_customers_language_answers_in_its_default():
    autoreply = AutoReply(knowledge_from_dict(BILINGUAL))
    assert autoreply.answer("fee", "en") == autoreply.answer("fee", "zh") == FEE
    assert autoreply.answer("ship", "fr") == "两天内发货。"


@pytest.mark.parametrize("answer", [{}, {"zh": ""}, {"chinese": "x"}, {"zh": 3}, ["x"]])
def test_a_bad_answer_per_language_is_refused_with_the_place_named(answer):
    with pytest.raises(ConfigError, match=r"entries\[0\]\.answer"):
        knowledge_from_dict({"entries": [{"id": "a", "questions": ["q"], "answer": answer}]})


@pytest.mark.parametrize("synonyms", [["a"], {"a": ""}, {"a": 1}])
def test_bad_synonyms_are_refused(synonyms):
    with pytest.raises(ConfigError, match="synonyms"):
        knowledge_from_dict({"entries": [{"id": "a", "questions": ["q"], "answer": "x"}],
                             "synonyms": synonyms})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_a_reply_and_normalising_twice_changes_nothing(text):
    result = ENGINE.reply(text)
    assert result.kind in (ANSWER, ASK_HUMAN, SUGGEST) and result.language in ("zh", "en")
    assert result.kind != ANSWER or result.answer
    assert normalise(normalise(text)) == normalise(text)


def test_the_sets_are_json_lines_with_a_question_and_a_label():
    for path in (HELDOUT, LOCKBOX, FRESH):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == {"q", "expect"}


@pytest.mark.parametrize("examples, where", [
    (["q"], "knowledge.examples"), ({"nope": ["q"]}, "knowledge.examples.nope"),
    ({"a": []}, "knowledge.examples.a"), ({"none": [""]}, "knowledge.examples.none")])
def test_bad_examples_are_refused_with_the_place_named(examples, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        knowledge_from_dict({"entries": [{"id": "a", "questions": ["q"], "answer": "x"}],
                             "examples": examples})


@pytest.mark.parametrize("reserved", ["human", "none", " none "])
def test_an_entry_may_not_take_a_label_of_the_examples(reserved):
    with pytest.raises(ConfigError, match=r"knowledge\.entries\[0\]\.id: .* is reserved"):
        knowledge_from_dict({"entries": [{"id": reserved, "questions": ["q"], "answer": "x"}]})


def test_examples_teach_the_engine_and_survive_the_export(knowledge):
    from actors.autoreply.knowledge import knowledge_to_dict
    data = {"entries": [{"id": "fee", "questions": ["运费多少"], "answer": "8 元"},
                        {"id": "hours", "questions": ["几点上班"], "answer": "9 点"}],
            "settings": {"threshold": 0.3}}
    plain = AutoReply(knowledge_from_dict(data))
    assert plain.reply("寄过来收钱不").kind == SUGGEST
    taught = knowledge_from_dict({**data, "examples": {"fee": ["寄过来要收钱吗"],
                                                       "none": ["今天天气怎么样"]}})
    assert AutoReply(taught).reply("寄过来收钱不").entry_id == "fee"
    assert knowledge_from_dict(knowledge_to_dict(taught)) == taught
