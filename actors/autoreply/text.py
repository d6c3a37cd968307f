"""What a question is before it is matched: its language and its normal form.

Customers write full-width letters (ＷＨＥＮ, ｐｒｏ), Traditional characters
(訂單, 運費) and either case; the knowledge base is written in Simplified
Chinese and lower-case English. ``normalise`` maps all of them to that one
form, for the knowledge base's questions and the customer's alike.
"""

from __future__ import annotations

import re
import unicodedata

import opencc

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# OpenCC's Traditional -> Simplified, phrase-aware (its dictionaries ship in
# the wheel: nothing is fetched). Loading it takes ~8 ms and converting a
# question ~1 µs (measured here; docs/autoreply.md). The converter holds no
# state between calls, so one is shared by every session.
_T2S = opencc.OpenCC("t2s")
# Control characters (Cc) carry no meaning in a question and become spaces;
# invisible format characters (zero-width space, direction marks, BOM) sit
# inside words, so they are dropped and the word stays whole.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def language_of(text: str) -> str:
    """"zh" when the text has any Han character, else "en".

    A mixed question ("我要refund") is Chinese: the customer reads Chinese.
    """
    return "zh" if _HAN.search(text) else "en"


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII), control characters out, lower case, Simplified."""
    normal = unicodedata.normalize("NFKC", text)
    if not normal.isprintable():  # controls and invisible characters are not printable
        normal = _CONTROL.sub(" ", _INVISIBLE.sub("", normal))
    normal = normal.lower()
    return str(_T2S.convert(normal)) if _HAN.search(normal) else normal


_THANKS = re.compile(r"(?<![a-z])(?:thank(?:s| you| u)|thx|ty)"
                     r"(?: (?:so|very) much| a lot)?(?![a-z])"
                     r"|(?:非常|十分)?(?:谢谢|多谢|感谢)(?:你|您|你们|了|啦)?")
_THANKS_HINT = re.compile(r"th|ty|谢")
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


def without_thanks(normal: str) -> str:
    """Thanks carry no question: "thank you so much" matched price through
    "much", "多谢了" through 多."""
    return _THANKS.sub(" ", normal) if _THANKS_HINT.search(normal) else normal


def trimmed(text: str) -> str:
    """``text`` without edge spaces and punctuation. Most questions begin and
    end with a letter or a Han character: they skip the regex."""
    if text[:1].isalnum() and text[-1:].isalnum():
        return text
    return _EDGES.sub("", text)
