"""The simple auto-reply: a keyword table and a list of words that ask for a person.

Deliberately small; a retrieval engine replaces it behind the same
``reply(text)`` call.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from actors.config import CsConfig

# Punctuation and spaces a customer wraps around a one-word request ("人工！").
_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


class AutoReplyResult(NamedTuple):
    """``wants_human`` means the customer asked for a person; else ``answer`` is the reply."""

    wants_human: bool
    answer: str


class AutoReply:
    """Answers a customer's text from the configured FAQ."""

    def __init__(self, config: CsConfig) -> None:
        self._faq = config.faq
        self._human_words = frozenset(config.human_words)
        self._fallback = config.texts.fallback

    def wants_human(self, text: str) -> bool:
        """A short message that is just a request for a person, in either language."""
        core = _TRIM.sub("", text.strip().lower())
        return core in self._human_words

    def reply(self, text: str) -> AutoReplyResult:
        if self.wants_human(text):
            return AutoReplyResult(True, "")
        lowered = text.lower()
        for entry in self._faq:
            if any(keyword in lowered for keyword in entry.keywords):
                return AutoReplyResult(False, entry.answer)
        return AutoReplyResult(False, self._fallback)
