"""Reading a customer's rating: a rating message (10004) or a bare number."""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from actors.messages import Payload

# "4", "4 快", "5 stars, thanks": a number first, an optional comment after.
_NUMBER_FIRST = re.compile(r"^\s*(\d{1,3})(?:\s*(?:stars?|星|分)?[\s,，.。!！]*)(.*)$",
                           re.IGNORECASE | re.DOTALL)
MAX_COMMENT_CHARS = 1000


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
    match = _NUMBER_FIRST.match(text)
    if match is None:
        return None
    stars = int(match.group(1))
    comment = match.group(2).strip()[:MAX_COMMENT_CHARS]
    return RatingAnswer(stars if 1 <= stars <= 5 else None, comment)
