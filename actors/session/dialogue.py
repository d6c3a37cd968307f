"""The bot's side of one conversation: what it offered, and how often it missed.

Owned by a SessionActor (one per session, never shared); it decides the
bot's replies from the shared auto-reply engine, and the session sends them.
"""

from __future__ import annotations

from typing import NamedTuple

from actors.autoreply.engine import ANSWER, AutoReply
from actors.config import Texts


class BotReply(NamedTuple):
    """Send ``text``; ``shown`` names the knowledge entry answered (to count it)."""

    text: str = ""
    wants_human: bool = False
    shown: str = ""


class BotDialogue:
    __slots__ = ("_autoreply", "_texts", "_misses", "_offered", "_last_answer", "_language")

    def __init__(self, autoreply: AutoReply, texts: Texts) -> None:
        self._autoreply = autoreply
        self._texts = texts
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
        self._language = result.language
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
        """The customer asks for a person: the last answer shown did not help."""
        entry_id, self._last_answer = self._last_answer, ""
        return entry_id

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
