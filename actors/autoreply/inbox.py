"""Where a session files what the bot missed, for a supervisor to teach from.

Called from a session actor (each session has its own dialogue, and all of
them share one Inbox, which holds no state of its own). Each call is one
Redis round trip; a failure is logged and dropped, since a lost inbox line
must never cost the customer an answer.
"""

from __future__ import annotations

import logging
import re

from actors.autoreply.text import normalise
from actors.clock import Clock
from storage.teaching import TeachingStore

log = logging.getLogger(__name__)

UNPLACED, THEN_HUMAN = "unplaced", "then_human"
# The inbox groups a question with its repeats: same words, whatever the
# case, width, script, spacing or punctuation around them.
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")
KEY_MAX_CHARS = 300


def question_key(question: str) -> str:
    return _SPACES.sub(" ", _EDGES.sub("", normalise(question[:KEY_MAX_CHARS])))


class Inbox:
    def __init__(self, store: TeachingStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def unanswered(self, question: str, reason: str, again: bool = True,
                   answered: str = "") -> None:
        """File ``question``; ``again`` False updates its reason without counting it twice
        (a miss the customer then took to a person is one question); ``answered``
        is the entry the bot answered it with, if any, before a person was asked for."""
        key = question_key(question)
        if not key:
            return  # emoji or punctuation only: nothing to teach from
        try:
            if not self._store.record_unanswered(key, question[:KEY_MAX_CHARS], reason,
                                                 int(self._clock.now() * 1000),
                                                 1 if again else 0, answered):
                log.warning("the unanswered inbox is full; teach or dismiss some questions")
        except Exception:
            log.exception("could not file an unanswered question")

    def servicer_answered(self, question: str, text: str) -> None:
        key = question_key(question)
        if not key:
            return
        try:
            self._store.record_servicer_answer(key, text)
        except Exception:
            log.exception("could not file a servicer's answer")

    def conversation_ended(self, with_person: bool) -> None:
        try:
            self._store.count_conversation(with_person)
        except Exception:
            log.exception("could not count a conversation")
