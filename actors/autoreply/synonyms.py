"""Words customers use for the knowledge base's words: one rewrite before matching.

A knowledge base names a thing one way (优惠券, coupon, 保修); customers use
others (券, voucher, 质保, 保固). Rewriting the customer's word to the
knowledge base's, in the questions of both, lets a variant written once
cover them all. The table is the knowledge base's (``synonyms:`` in
config/knowledge.yaml), since which words are the same thing is the
business's to say. Han words are replaced wherever they occur (Chinese has
no spaces); English words only whole. A single English word also covers its
plural or singular, so a table need not list both: "sales" and "deal" were
missed with "sale" and "deals" listed (two more questions right of 1,687
left out in turn; docs/autoreply.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from actors.autoreply.text import normalise

_SINGLE_WORD = re.compile(r"[a-z]{3,}")


def inflections(word: str) -> list[str]:
    """The plural or singular of a single English word of three letters or
    more (a table's "sale" also covers "sales", its "deals" also "deal");
    nothing for a phrase, an abbreviation or Han. A form the table lists
    itself keeps the table's word (``Synonyms`` adds these only where none is
    listed). Verbs' forms are not made: "support: agents" would then rewrite
    "which cards are supported", and adding "-ed" and "-ing" forms lost more
    than it gained (left out in turn)."""
    if not _SINGLE_WORD.fullmatch(word):
        return []
    forms = []
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        forms.append(word[:-1])
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms.append(word + "es")
    elif word.endswith("y") and word[-2] not in "aeiou":
        forms.append(word[:-1] + "ies")
    else:
        forms.append(word + "s")
    return forms


class Synonyms:
    """Immutable once built; shared by every session."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._to = {normalise(word): normalise(canonical) for word, canonical in pairs}
        for word, canonical in list(self._to.items()):
            for form in inflections(word):
                self._to.setdefault(form, canonical)
        # Longest first, so 取消订阅 is rewritten before 订阅 is.
        words = sorted(self._to, key=len, reverse=True)
        # English words are bounded by anything but a Latin letter or digit,
        # not by \b: "c++" ends in a non-word character, and Han characters
        # count as word characters to \b ("我要sale" must still match).
        # The bounds enclose all the English words at once, not each: with a
        # lookbehind per alternative, a pass over a question took ~3.2 µs with
        # the 98 pairs of round three, against ~1.9 µs so. Words with a Han
        # character come first: one that shares a start with an English word
        # is the longer of the two, so longest-first still holds.
        han = [re.escape(w) for w in words if not w.isascii()]
        english = [re.escape(w) for w in words if w.isascii()]
        if english:
            han.append(rf"(?<![a-z0-9])(?:{'|'.join(english)})(?![a-z0-9])")
        self._pattern = re.compile("|".join(han)) if words else None
        # The words alone, without their bounds: the regex engine then skips
        # every position whose character starts no word, where the lookbehinds
        # above defeat that. Most questions have no such word and are let
        # through by this search: ~0.5 µs, against ~3.5 µs for the bounded
        # pattern's pass over a question (measured with the sample knowledge).
        self._any = re.compile("|".join(map(re.escape, words))) if words else None

    def apply(self, normal: str) -> str:
        """``normal`` (already ``normalise``d) with every known word rewritten."""
        if self._pattern is None or self._any is None or not self._any.search(normal):
            return normal
        return self._pattern.sub(lambda m: self._to[m.group(0)], normal)
