"""Reading a rating from what a customer wrote in the rating window."""

import pytest

from actors.messages import Payload, text_payload
from actors.session.rating import read_rating

RATING = 10004


@pytest.mark.parametrize("text, stars, comment", [
    ("5", 5, ""),
    (" 3 ", 3, ""),
    ("4 很好", 4, "很好"),
    ("5 - fast", 5, "fast"),
    ("5分", 5, ""),
    ("4星，服务不错", 4, "服务不错"),
    ("5 stars, thanks", 5, "thanks"),
    ("5 great service", 5, "great service"),
    ("2: slow answers", 2, "slow answers"),
])
def test_a_bare_number_from_one_to_five_is_a_rating(text, stars, comment):
    assert read_rating(text_payload(text), RATING) == (stars, comment)


@pytest.mark.parametrize("text", [
    "3天能到吗", "2 more questions", "10元的套餐有吗", "5 days?", "3 天能到吗",
    "1个订单能退吗", "4 items in my cart", "what is 5", "",
])
def test_a_question_that_starts_with_a_number_is_not_a_rating(text):
    assert read_rating(text_payload(text), RATING) is None


@pytest.mark.parametrize("text", ["6", "0", "10", "9 星"])
def test_a_bare_number_out_of_range_asks_again(text):
    answer = read_rating(text_payload(text), RATING)
    assert answer is not None and answer.stars is None


def test_a_rating_message_carries_its_stars_and_comment():
    payload = Payload(type=RATING, content='{"stars": 4, "comment": "ok"}')
    assert read_rating(payload, RATING) == (4, "ok")
    bad = Payload(type=RATING, content='{"stars": 9}')
    assert read_rating(bad, RATING).stars is None
