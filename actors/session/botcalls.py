"""A session's questions out with the external bot (``bot_webhook``).

Each call runs in a greenlet of the shared, bounded pool and tells the
session the answer. Until it comes, the question's journal entry stays and
its id counts as unseen, so a crash meanwhile replays it; if the session
ends first, its questions are done with (never replayed into a new one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent

from actors.messages import BotAnswer


class BotCalls:
    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: tuple[int, ...] = ()  # message ids the bot has not answered yet

    @staticmethod
    def busy(calls: Any) -> bool:
        """Whether the shared pool of calls is full (then the knowledge base answers)."""
        return calls is not None and bool(calls.full())

    def ask(self, calls: Any, ask_bot: Callable[[str, str], BotAnswer | None],
            customer_id: str, text: str, message_id: int,
            answered: Callable[[BotAnswer | None], object]) -> None:
        """Ask in a greenlet of ``calls``; ``answered`` gets the answer (it tells the
        session, so it may run in any greenlet)."""
        self.held += (message_id,)

        def call() -> None:
            answered(ask_bot(customer_id, text))

        (calls.spawn if calls is not None else gevent.spawn)(call)

    def answered(self, message_id: int) -> None:
        self.held = tuple(m for m in self.held if m != message_id)
