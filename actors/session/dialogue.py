"""The bot's side of one conversation: what it offered, and how often it missed.

Owned by a SessionActor (one per session, never shared); it decides the
bot's replies from the shared auto-reply engine, and the session sends them.
"""

from __future__ import annotations

from typing import NamedTuple

from actors.autoreply.engine import ANSWER, AutoReply
from actors.autoreply.inbox import THEN_HUMAN, UNPLACED, Inbox
from actors.texts import Texts


class BotReply(NamedTuple):
    """Send ``text``; ``shown`` names the knowledge entry answered (to count it)."""

    text: str = ""
    wants_human: bool = False
    shown: str = ""


class BotDialogue:
    __slots__ = ("_autoreply", "_texts", "_misses", "_offered", "_last_answer", "_language",
                 "_inbox", "_last_question", "_last_missed", "_awaiting", "_asked",
                 "_handed_over", "_ended")

    def __init__(self, autoreply: AutoReply, texts: Texts, inbox: Inbox | None = None) -> None:
        self._autoreply = autoreply
        self._texts = texts
        self._inbox = inbox  # None: nothing is filed (tests of the dialogue alone)
        self._last_question = ""  # the last question put to the knowledge base
        self._last_missed = False  # ... and it was filed as unplaced
        self._awaiting = ""  # handed to a person: the servicer's first answer is filed with it
        self._asked = False  # the bot was asked something in this conversation
        self._handed_over = False  # a person was asked for
        self._ended = False
        self._misses = 0  # misses in a row
        self._offered: tuple[str, ...] = ()  # entry ids the customer may pick by number
        self._last_answer = ""  # entry id of the last answer shown
        # The language of the customer's last question: a number picked from
        # the options is answered in the language the options were shown in.
        self._language = ""

    def welcome(self) -> str:
        offered = self._autoreply.suggested()
        self._offered = offered
        if not offered:
            return self._texts.welcome
        return (self._texts.welcome + "\n"
                + self._texts.welcome_suggestions.format(options=self._options(offered)))

    def choice(self, text: str) -> BotReply | None:
        """The offered question a bare number picks, if it is one."""
        choice = text.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._offered):
            return self._answer(self._offered[int(choice) - 1], self._language)
        return None

    def from_knowledge(self, text: str) -> BotReply:
        result = self._autoreply.reply(text)
        if result.wants_human:
            return BotReply(wants_human=True)
        self._asked = True
        self._language = result.language
        self._last_question, self._last_missed = text, result.kind != ANSWER
        if self._last_missed and self._inbox is not None:
            self._inbox.unanswered(text, UNPLACED)
        if result.kind == ANSWER:
            return self._answer(result.entry_id, result.language)
        self._misses += 1
        reply = (self._texts.suggest.format(options=self._options(result.suggestions))
                 if result.suggestions else self._texts.fallback)
        if self._misses >= self._autoreply.knowledge.misses_before_human:
            reply += "\n" + self._texts.offer_human
        self._offered = result.suggestions
        return BotReply(reply)

    def unhelpful_answer(self) -> str:
        """The customer asks for a person: the last answer shown did not help.

        The last question goes to the inbox (counted once if it was already
        filed as a miss), and waits for the servicer's answer.
        """
        entry_id, self._last_answer = self._last_answer, ""
        self._handed_over = True
        question, self._last_question = self._last_question, ""
        if question and self._inbox is not None:
            self._inbox.unanswered(question, THEN_HUMAN, again=not self._last_missed,
                                   answered=entry_id)
            self._awaiting = question
        return entry_id

    def servicer_answered(self, text: str) -> None:
        """A servicer wrote to the customer: the first text after a hand-off is
        filed as the answer to the question the bot could not answer."""
        question, self._awaiting = self._awaiting, ""
        if question and text and self._inbox is not None:
            self._inbox.servicer_answered(question, text)

    def ended(self) -> None:
        """The conversation is over: count it, and whether the bot ended it alone."""
        if self._asked and not self._ended and self._inbox is not None:
            self._inbox.conversation_ended(with_person=self._handed_over)
        self._ended = True

    def _answer(self, entry_id: str, language: str) -> BotReply:
        answer = self._autoreply.answer(entry_id, language)
        if answer is None:  # the knowledge base was reloaded without it
            return BotReply(self._texts.fallback)
        self._misses = 0
        self._offered = ()
        self._last_answer = entry_id
        return BotReply(answer, shown=entry_id)

    def _options(self, entry_ids: tuple[str, ...]) -> str:
        return "\n".join(f"{i}. {self._autoreply.question(e, self._language)}"
                         for i, e in enumerate(entry_ids, 1))
