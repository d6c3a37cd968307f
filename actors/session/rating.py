"""Reading a customer's rating: a rating message (10004) or a bare number.

In the rating window a customer may also ask a new question, and many
questions start with a number ("3天能到吗", "10元的套餐有吗", "2 more
questions"). Taking one of those as a rating loses the question and closes
the session, which is worse than missing a rating, so a text counts only
when it is a bare 1-5, optionally with a star word, and then nothing or a
comment after a separator ("5", "5分", "4 很好", "5 - fast", "4星，不错").
A comment after a mere space counts when it is not Latin ("4 很好") or
starts with a word of praise or blame ("5 great service"), and never when
it reads as a question.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, NamedTuple

from actors.config import CsConfig
from actors.messages import Payload, Servicer, text_payload
from actors.session.voice import ENDED, tagged

if TYPE_CHECKING:
    from actors.durability.ledger import Ledger
    from actors.session.state import SessionState
    from actors.session.voice import Voice

MAX_COMMENT_CHARS = 1000

_RATING = re.compile(
    r"""^\s*(?P<number>\d{1,3})\s*(?P<unit>stars?\b|星|分)?   # the number, a star word
        (?:(?P<sep>\s*[-–—,，.。!！:：;；~/|]+\s*|\s+)(?P<comment>.*?))?\s*$""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE)
_QUESTION = re.compile(r"[?？吗呢么]\s*$")
# English words that open a comment on a conversation, not a quantity of things.
_PRAISE_OR_BLAME = frozenset(
    "great good excellent thanks thank nice perfect ok okay fine fast quick helpful "
    "friendly bad slow poor terrible awful rude unhelpful average so very not".split())


class RatingAnswer(NamedTuple):
    """``stars`` is None when the answer was a rating but out of 1-5."""

    stars: int | None
    comment: str


def read_rating(payload: Payload, rating_type: int) -> RatingAnswer | None:
    """The rating in this message, or None if it is not an answer to a rating request."""
    if payload.type == rating_type:
        try:
            data = json.loads(payload.content or "{}")
        except ValueError:
            data = {}
        stars = data.get("stars") if isinstance(data, dict) else None
        comment = data.get("comment", "") if isinstance(data, dict) else ""
        if stars is None:
            return _from_text(payload.searchableContent) or RatingAnswer(None, "")
        valid = isinstance(stars, int) and not isinstance(stars, bool) and 1 <= stars <= 5
        return RatingAnswer(stars if valid else None, str(comment)[:MAX_COMMENT_CHARS])
    return _from_text(payload.text)


def _from_text(text: str) -> RatingAnswer | None:
    match = _RATING.match(text)
    if match is None:
        return None
    comment = (match.group("comment") or "").strip()
    if comment and not _is_comment(match.group("sep") or "", comment):
        return None
    stars = int(match.group("number"))
    if not 1 <= stars <= 5:
        # "6" is a rating out of range (ask again); "6 items" is not a rating.
        return RatingAnswer(None, "") if not comment else None
    return RatingAnswer(stars, comment[:MAX_COMMENT_CHARS])


def _is_comment(separator: str, comment: str) -> bool:
    if _QUESTION.search(comment):
        return False
    if separator.strip():  # punctuation between the number and the words
        return True
    first = comment.split()[0].lower().strip(",.!")
    return not first.isascii() or first in _PRAISE_OR_BLAME


def rating_request(session_id: str, servicer: Servicer, config: CsConfig) -> Payload:
    """The rating request (10005) after a human part: who is rated, in its content;
    its ``extra`` says the conversation ended."""
    content = json.dumps({"sessionId": session_id, "servicerId": servicer.id,
                          "servicerName": servicer.name}, ensure_ascii=False)
    return tagged(Payload(type=config.content_types.rating_request,
                          searchableContent=config.texts.rating_request, content=content,
                          persistFlag=0), ENDED)


def take_rating(payload: Payload, state: SessionState, config: CsConfig, ledger: Ledger,
                voice: Voice, now: float) -> bool | None:
    """Store the customer's rating of their last servicer, and thank them.

    Returns:
        None if the message is not a rating; False if it is one out of 1-5 (the
        customer is asked again); True if it was stored (the session ends).
    """
    answer = read_rating(payload, config.content_types.rating)
    servicer = state.last_servicer
    if answer is None or servicer is None:
        return None
    if answer.stars is None:
        voice.to_customer(text_payload(config.texts.rating_invalid))
        return False
    ledger.rate({"session": state.session_id, "customer": state.customer_id,
                 "servicer": servicer.id, "stars": answer.stars, "comment": answer.comment,
                 "t": int(now * 1000)})
    ledger.count(servicer.id, "rated")
    state.stars = answer.stars
    ledger.count(servicer.id, "stars", answer.stars)
    voice.notify(config.texts.rating_thanks, ENDED)
    return True
