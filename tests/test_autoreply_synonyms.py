"""A synonym table's English words cover their plural or singular too."""

import pytest

from actors.autoreply.engine import AutoReply
from actors.autoreply.knowledge import load_knowledge
from actors.autoreply.synonyms import Synonyms, inflections
from actors.config import CsConfig
from tests.test_autoreply_eval import KNOWLEDGE


@pytest.mark.parametrize(("word", "forms"), [
    ("sale", ["sales"]), ("deals", ["deal"]), ("box", ["boxes"]), ("address", ["addresses"]),
    ("delivery", ["deliveries"]), ("day", ["days"]), ("bus", ["buses"]),
    ("sign in", []), ("质保", []), ("24/7", []), ("pw", [])])
def test_inflections_are_the_other_number_of_one_english_word(word, forms):
    assert inflections(word) == forms


def test_a_plural_is_rewritten_as_its_singular_is():
    synonyms = Synonyms([("sale", "discount"), ("deals", "discount")])
    assert synonyms.apply("any sales this weekend?") == "any discount this weekend?"
    assert synonyms.apply("is that a good deal") == "is that a good discount"
    assert synonyms.apply("wholesales") == "wholesales"  # still whole words only


def test_a_form_the_table_names_keeps_its_own_word():
    synonyms = Synonyms([("sale", "discount"), ("sales", "revenue")])
    assert synonyms.apply("sales") == "revenue"
    assert synonyms.apply("sale") == "discount"
    # and the other way round: the table's word, not an inflection of another
    assert Synonyms([("sales", "revenue"), ("sale", "discount")]).apply("sale") == "discount"


def test_a_phrase_is_not_inflected():
    assert Synonyms([("sign in", "log in")]).apply("two sign ins") == "two sign ins"


@pytest.fixture(scope="module")
def engine():
    return AutoReply(load_knowledge(KNOWLEDGE), CsConfig().human_words)


@pytest.mark.parametrize(("question", "entry"), [
    # Phrasings written for this test (in no labelled set), each answered by
    # another entry or by none before round eight's words.
    ("do you do cod", "payment_methods"),
    ("can i pay on delivery", "payment_methods"),
    ("are there any markdowns right now", "coupon"),
    ("any bargains this week", "coupon"),
    ("the blender is malfunctioning", "warranty"),
    ("were you reimbursed", "refund"),
])
def test_the_customers_english_words_reach_the_entry(engine, question, entry):
    assert engine.reply(question).entry_id == entry
