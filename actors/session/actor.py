"""SessionActor: one customer's conversation, from the first message to its end.

Mode goes ``auto`` -> ``requesting`` (waiting for the pool's answer) ->
``queued`` (no free seat yet) -> ``human`` -> ``rating`` (the human part
ended; the customer may rate it) -> ``closed``. The actor owns its mode,
Shadow, servicer and idle timer; its Ledger saves what each message changed.

It is built in three layers, one module each: what a session holds and how
it speaks (actors/sessionbase.py), how it gets and keeps a person
(actors/seating.py), and here the conversation's course: the customer's
and the servicer's messages, the bot's answers, the end and the rating.
"""

from __future__ import annotations

import json
import logging

import gevent

from actors.call import tell
from actors.commands import shadow_command
from actors.directory import Directory
from actors.messages import (
    BotAnswer,
    CustomerMessage,
    Payload,
    PoolRestarted,
    Queued,
    SeatAssigned,
    SeatRevoked,
    SeatUnavailable,
    ServicerMessage,
    TransferFailed,
    text_payload,
)
from actors.pool import ServicerPool
from actors.session.base import (
    AUTO,
    CLOSED,
    HUMAN,
    RATING,
    WAITING,
    SessionDeps,
    ShadowError,
)
from actors.session.dialogue import BotReply
from actors.session.rating import read_rating
from actors.session.seating import Seating

__all__ = ["SessionActor", "SessionDeps", "ShadowError"]

log = logging.getLogger(__name__)

MAX_GROUP_CHARS = 64


class SessionActor(Seating):
    """One customer's session. Started and stopped by the Directory.

    Takes typed messages (actors/messages.py: ``CustomerMessage``,
    ``SeatAssigned``, ...) through one dispatcher, and method references
    (``actors.call.tell``) for its timers; never a proxy.
    """

    def on_start(self) -> None:
        if not self._deadline_mono:
            self._touch()
        self._arm()
        if self._mode in WAITING or self._mode == HUMAN:
            # Re-attach to the pool after a restart: it answers with the same
            # seat, or with the place in the queue it kept.
            self._ask_for_seat()

    def on_stop(self) -> None:
        if self._ledger.pending:
            self._ledger.commit(self._snapshot_or_none)
        self._cancel_timers()

    # Messages from the Directory -----------------------------------------

    def _on_customer_message(self, received: CustomerMessage) -> None:
        """A message the customer sent to the CS Robot (runs in the session)."""
        message = received.message
        if self._mode == CLOSED:
            tell(self._deps.directory, Directory.route_customer, message)  # a new session
            return
        if self._seen(message):
            return
        payload = message.payload
        types = self._config.content_types
        if self._flooding():
            self._record("in", message.sender, payload, dropped=True)
            return
        self._record("in", message.sender, payload)
        if payload.type == types.leave:
            self._close("left")
            return
        self._touch()
        if self._mode == RATING and self._take_rating(payload):
            return
        if self._mode == RATING:
            self._set_mode(AUTO)  # no rating: a new question
        if payload.type == types.enter:
            if self._mode == AUTO:
                self._to_customer(text_payload(self._bot.welcome()))
        elif payload.type == types.request_human:
            self._request_human(*_request_of(payload))
        elif self._mode == HUMAN:
            self._to_servicer(payload)
        elif payload.text:
            self._answer(payload.text, message.message_id)
        else:
            self._to_customer(text_payload(self._config.texts.fallback))

    def bot_answered(self, question: str, answer: BotAnswer | None, message_id: int) -> None:
        """The external bot answered, or failed (told by the webhook greenlet).

        Only now is the question's journal entry dropped: a crash while the bot
        thought replays the question after the restart.
        """
        self._ledger.handled(message_id)
        self._remember_id(message_id)
        if self._mode != AUTO:
            return  # the customer moved on (to a person, or away)
        if answer is None:
            self._reply(self._bot.from_knowledge(question))
        elif answer.handoff:
            self._request_human("")
        else:
            self._to_customer(text_payload(answer.answer))

    def _on_servicer_message(self, received: ServicerMessage) -> None:
        """A message a servicer sent to this customer's Shadow (runs in the session)."""
        message = received.message
        if self._seen(message):
            return
        servicer = self._servicer
        if self._mode != HUMAN or servicer is None or message.sender != servicer.id:
            self._refuse_servicer(message)
            return
        tell(self._deps.pool, ServicerPool.servicer_active, servicer.id)
        command = shadow_command(message.payload.text)
        if command is not None:
            self._record("in", message.sender, message.payload, servicer=servicer.id)
            if command.name == "end":
                self._close("servicer_ended")
            else:
                tell(self._deps.pool, ServicerPool.transfer, self.customer_id,
                     command.argument or None)
            return
        self._touch()
        if not self._replied:
            self._replied = True
            elapsed_ms = int((self._deps.clock.monotonic() - self._seated_mono) * 1000)
            self._ledger.count(servicer.id, "first_response_ms", max(0, elapsed_ms))
            self._ledger.count(servicer.id, "first_responses")
        self._ledger.count(servicer.id, "replies")
        relayed = message.payload.with_extra({"cs": servicer.relay_info()})
        self._to_customer(relayed, servicer=servicer.id)

    # Timers -----------------------------------------------------------------

    def idle_expired(self) -> None:
        """The idle timer fired; a stale firing re-arms instead (runs in the session)."""
        if self._mode == CLOSED:
            return
        if self._deps.clock.monotonic() >= self._deadline_mono:
            self._close("rating_over" if self._mode == RATING else "idle")
        else:
            self._arm()

    # Auto-reply -------------------------------------------------------------

    def _answer(self, text: str, message_id: int) -> None:
        picked = self._bot.choice(text)
        calls = self._deps.bot_calls
        if picked is not None:
            self._reply(picked)
        elif self._deps.ask_bot is None:
            self._reply(self._bot.from_knowledge(text))  # the engine hears "a person" too
        elif self._deps.autoreply.wants_human(text):
            self._request_human("")  # never sent to the external bot
        elif calls is not None and calls.full():
            log.warning("bot webhook busy (%d calls in flight); %s answered from knowledge",
                        calls.size, self.customer_id)
            self._reply(self._bot.from_knowledge(text))
        else:
            self._hold(message_id)  # its journal entry stays until the bot answered
            ask, ref, customer = self._deps.ask_bot, self.actor_ref, self.customer_id

            def call() -> None:
                tell(ref, SessionActor.bot_answered, text, ask(customer, text), message_id)

            (calls.spawn if calls is not None else gevent.spawn)(call)

    def _reply(self, reply: BotReply) -> None:
        if reply.wants_human:
            self._request_human("")
            return
        if reply.shown:
            self._ledger.count_answer(reply.shown, "shown")
        self._to_customer(text_payload(reply.text))

    # Ending and rating ---------------------------------------------------

    def _close(self, reason: str) -> None:
        """End the conversation; after a human part, wait a while for a rating."""
        texts = self._config.texts
        was_human = self._mode == HUMAN and self._servicer is not None
        if was_human:
            assert self._servicer is not None
            notice = {"idle": texts.servicer_idle_end, "left": texts.servicer_customer_left,
                      "servicer_ended": texts.servicer_ended}[reason]
            self._to_servicer(text_payload(notice))
            self._ledger.count(self._servicer.id, "sessions")
        if reason == "idle":
            self._to_customer(text_payload(texts.idle_end))
        elif reason == "servicer_ended":
            self._to_customer(text_payload(texts.servicer_end))
        if self._mode in WAITING or was_human:
            self._release_seat()
        self._servicer = None
        if was_human:
            self._ask_for_rating()
            return
        self._ledger.ended({"customer": self.customer_id, "session": self.session_id,
                            "servicers": list(self._served_by), "reason": reason,
                            "stars": self._stars, "closed": int(self._deps.clock.now() * 1000)})
        self._set_mode(CLOSED)
        self._cancel_timers()
        tell(self._deps.directory, Directory.session_closed, self.customer_id, self.actor_ref)
        log.info("session %s closed (%s)", self.customer_id, reason)

    def _ask_for_rating(self) -> None:
        servicer = self._last_servicer
        assert servicer is not None
        self._set_mode(RATING)
        content = json.dumps({"sessionId": self.session_id, "servicerId": servicer.id,
                              "servicerName": servicer.name}, ensure_ascii=False)
        self._to_customer(Payload(type=self._config.content_types.rating_request,
                                  searchableContent=self._config.texts.rating_request,
                                  content=content, persistFlag=0))

    def _take_rating(self, payload: Payload) -> bool:
        """Store the customer's rating; False if this message is not one."""
        answer = read_rating(payload, self._config.content_types.rating)
        if answer is None or self._last_servicer is None:
            return False
        if answer.stars is None:
            self._to_customer(text_payload(self._config.texts.rating_invalid))
            return True
        servicer_id = self._last_servicer.id
        self._ledger.rate({"session": self.session_id, "customer": self.customer_id,
                           "servicer": servicer_id, "stars": answer.stars,
                           "comment": answer.comment,
                           "t": int(self._deps.clock.now() * 1000)})
        self._ledger.count(servicer_id, "rated")
        self._stars = answer.stars
        self._ledger.count(servicer_id, "stars", answer.stars)
        self._to_customer(text_payload(self._config.texts.rating_thanks))
        self._close("rated")
        return True


def _request_of(payload: Payload) -> tuple[str, int]:
    """The group and priority a request-human message asks for: content
    ``{"group": "...", "priority": 0-9}``; anything unreadable is the default."""
    try:
        data = json.loads(payload.content) if payload.content else {}
    except ValueError:
        return "", 0
    if not isinstance(data, dict):
        return "", 0
    group = data.get("group", "")
    priority = data.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
        priority = 0
    return (group[:MAX_GROUP_CHARS] if isinstance(group, str) else ""), priority


SessionActor._dispatch = {
    CustomerMessage: SessionActor._on_customer_message,
    ServicerMessage: SessionActor._on_servicer_message,
    SeatAssigned: SessionActor._on_seat_assigned,
    Queued: SessionActor._on_queued,
    SeatUnavailable: SessionActor._on_seat_unavailable,
    SeatRevoked: SessionActor._on_seat_revoked,
    TransferFailed: SessionActor._on_transfer_failed,
    PoolRestarted: SessionActor._on_pool_restarted,
}
