"""English typos put right against the knowledge base's own words.

Customers type "oder", "refnud", "pasword", "adress". Character trigrams
catch part of such a word, but a four-letter typo shares one or two of its
trigrams with the right word and as many with wrong ones. A word the
knowledge base does not know is replaced by the one known word one edit away
(a letter dropped, added, changed, or two neighbours swapped), found through
the words' one-deletion neighbourhoods (the SymSpell idea: two words are one
edit apart when their neighbourhoods meet), so a question costs a few dict
look-ups per unknown word, never a pass over the vocabulary.

Only words of ``MIN_LETTERS`` or more are put right: shorter words are one
edit from too many others ("song" -> "long", "sing" -> "using", "cant" ->
"want"; with four letters allowed the pooled 10-fold figure was 0.923, with
five 0.926). Words the caller says are known (stop words, contractions) are
never put right. When two known words are one edit away, the one the
knowledge base uses more wins.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[a-z]+")
# English contractions written without their apostrophe: words, not typos of
# one ("doesnt" is no typo of "does"); the engine passes them as known.
CONTRACTIONS = frozenset(
    "cant cannot dont doesnt didnt wont wouldnt couldnt shouldnt isnt arent wasnt werent "
    "havent hasnt youre theyre theres wheres whats hows thats".split())
MIN_LETTERS = 5


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Spelling:
    """Immutable once built; shared by every session."""

    def __init__(self, texts: Iterable[str], stem: Callable[[str], str],
                 known: Iterable[str] = ()) -> None:
        counts = Counter(w for text in texts for w in _WORD.findall(text))
        self._known = frozenset(counts) | frozenset(known)
        self._stem = stem
        self._stems = frozenset(map(stem, counts))
        # neighbour (the word, or the word less one letter) -> the known word
        # the knowledge base uses most among those that have it, and its count
        near: dict[str, tuple[int, str]] = {}
        for word, count in counts.items():
            if len(word) >= MIN_LETTERS:
                for key in (word, *_deletions(word)):
                    if (count, word) > near.get(key, (0, "")):
                        near[key] = (count, word)
        self._near = near

    def correct(self, normal: str) -> str:
        """``normal`` with each unknown English word put right when a known
        word is one edit away; anything else is left as it is."""
        known = self._known
        if all(w in known for w in _WORD.findall(normal)):
            return normal
        return _WORD.sub(lambda m: self._word(m.group(0)), normal)

    def _word(self, word: str) -> str:
        if word in self._known or len(word) < MIN_LETTERS or self._stem(word) in self._stems:
            return word
        near = self._near
        found = [near[key] for key in (word, *_deletions(word)) if key in near]
        return max(found)[1] if found else word
