"""SessionActor: one customer's conversation, from the first message to its end.

Mode goes ``auto`` -> ``requesting`` (waiting for the pool's answer) ->
``queued`` (no free seat yet) -> ``human`` -> ``rating`` (the human part
ended; the customer may rate it) -> ``closed``. The actor owns its state
(``SessionState``) and composes helpers that work on it: its seat rules
(``SeatRules``), the bot's dialogue, its ``Voice``, a supervisor's ``Watch``
and its ``Ledger``. Here: messages, bot answers, idle timer, end, rating.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from actors.call import Receiver, tell, tell_later
from actors.clock import Cancellable
from actors.commands import asks_for_help, human_request, shadow_command
from actors.directory import Directory
from actors.durability.ledger import Ledger
from actors.mailbox import GreenletActor
from actors.messages import (
    BotAnswer,
    CustomerMessage,
    Inbound,
    Monitor,
    Payload,
    PoolRestarted,
    Queued,
    SeatAssigned,
    SeatRevoked,
    SeatUnavailable,
    Servicer,
    ServicerMessage,
    TransferFailed,
    text_payload,
)
from actors.pool import ServicerPool
from actors.ratelimit import FloodGuard
from actors.session.botcalls import BotCalls
from actors.session.canned import canned_command, canned_reply
from actors.session.deps import SessionDeps, ShadowError
from actors.session.dialogue import BotDialogue, BotReply
from actors.session.idle import IdleTimer
from actors.session.rating import rating_request, take_rating
from actors.session.seating import SeatRules
from actors.session.snapshot import SessionSnapshot
from actors.session.state import AUTO, CLOSED, HUMAN, LEAVING, RATING, WAITING, SessionState
from actors.session.voice import ENDED, Voice
from actors.session.watch import Watch

__all__ = ["SessionActor", "SessionDeps", "ShadowError"]

log = logging.getLogger(__name__)

COMMIT_RETRY_SECS = 1.0
FLOOD_PERIOD_SECS = 10.0


class SessionActor(Receiver, GreenletActor):
    """One customer's session. Started and stopped by the Directory.

    Takes typed messages (actors/messages.py: ``CustomerMessage``,
    ``SeatAssigned``, ...) through one dispatcher, and method references
    (``actors.call.tell``) for its timers and the bot's answers; never a proxy.
    """

    use_daemon_thread = True

    def __init__(self, customer_id: str, deps: SessionDeps,
                 snapshot: SessionSnapshot | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self._deps = deps
        self._config = deps.config
        clock = deps.clock
        opened = f"{int(clock.now() * 1000):013d}.{uuid.uuid4().hex[:8]}"
        self._state = state = SessionState(customer_id, opened)
        if snapshot is not None:
            state.restore(snapshot, clock.now() - clock.monotonic())
        self._ledger = Ledger(customer_id, deps.store, deps.outbox, state.opened)
        self._ledger.seq, self._ledger.dirty = (snapshot.seq, False) if snapshot else (0, True)
        texts = deps.config.texts
        self._voice = Voice(state, self._ledger, deps.robot_id, clock, deps.store,
                            snapshot.last_t if snapshot else -1, texts.copy_servicer,
                            texts.copy_bot)
        self._watch = Watch(state, self._voice, deps)
        self._seats = SeatRules(state, self._voice, deps, self._set_mode, self.actor_ref,
                                self._ledger.count)
        self._bot = BotDialogue(deps.autoreply, deps.config.texts, deps.inbox)
        self._timer = IdleTimer(deps.clock, self.actor_ref)
        self._commit_retry: Cancellable | None = None
        self._flood = FloodGuard(deps.config.customer_rate_limit, FLOOD_PERIOD_SECS)
        self._bot_calls = BotCalls()

    def describe(self) -> str:
        return f"session {self.customer_id}"

    def on_start(self) -> None:
        if not self._state.deadline_mono:
            self._touch()
        self._arm()
        if self._state.mode in WAITING or self._state.mode == HUMAN:
            # Re-attach to the pool after a restart: it answers with the same
            # seat, or with the place in the queue it kept.
            self._seats.ask_for_seat()

    def on_stop(self) -> None:
        if self._ledger.pending:
            self._ledger.commit(self._snapshot_or_none)
        self._cancel_timers()

    def on_receive(self, message: Any) -> Any:
        """The message boundary: one bad message is logged, never kills the
        session; whatever the message changed is saved."""
        try:
            handle = _DISPATCH.get(type(message))
            if handle is None:
                return super().on_receive(message)
            try:
                handle(self, message)
            except Exception:
                log.exception("session %s failed on %s; it goes on", self.customer_id,
                              type(message).__name__)
            return None
        finally:
            self._commit()

    def state(self) -> dict[str, Any]:
        """The session's snapshot, as it would be stored (tests and the API ask it)."""
        offset = self._deps.clock.now() - self._deps.clock.monotonic()
        return self._state.snapshot(self._ledger.seq, self._voice.last_t, offset).to_dict()

    # The customer and the servicer -----------------------------------------

    def _on_customer_message(self, received: CustomerMessage) -> None:
        """A message the customer sent to the CS Robot."""
        message, state = received.message, self._state
        if state.mode == CLOSED:
            tell(self._deps.directory, Directory.route_customer, message)  # a new session
            return
        if self._seen(message):
            return
        payload = message.payload
        types = self._config.content_types
        if self._flooding():
            self._voice.heard(message, dropped=True)
            return
        self._voice.heard(message)
        self._watch.customer_wrote(payload)
        if payload.type == types.leave:
            if not state.left_message:  # a message left waits even if they go
                self._close("left")
            return
        self._touch()
        if state.mode == LEAVING and payload.type != types.enter:
            self._seats.leave_message()
            return
        if state.mode == RATING:
            taken = take_rating(payload, state, self._config, self._ledger, self._voice,
                                self._deps.clock.now())
            if taken:
                self._close("rated")
            if taken is not None:  # a rating, stored or asked again
                return
            self._set_mode(AUTO)  # no rating: a new question
        if payload.type == types.enter:
            if state.mode == AUTO:
                self._voice.to_customer(text_payload(self._bot.welcome()))
        elif payload.type == types.request_human:
            request = human_request(payload)
            if request.bad_priority:
                self._voice.to_customer(text_payload(self._config.texts.bad_priority))
            self._request_human(request.group, request.priority)
        elif state.mode == HUMAN:
            self._voice.to_servicer(payload)
        elif asks_for_help(payload.text):
            self._voice.to_customer(text_payload(self._config.texts.customer_help))
        elif payload.text:
            self._answer(payload.text, message.message_id)
        else:
            self._voice.to_customer(text_payload(self._config.texts.fallback))

    def _on_servicer_message(self, received: ServicerMessage) -> None:
        """A message a servicer sent to this customer's Shadow."""
        message, state = received.message, self._state
        if self._seen(message):
            return
        servicer = state.servicer
        if message.sender in state.monitors and (servicer is None or message.sender != servicer.id):
            return self._watch.whisper(message)  # to the servicer only
        if state.mode != HUMAN or servicer is None or message.sender != servicer.id:
            return self._seats.refuse_servicer(message)
        tell(self._deps.pool, ServicerPool.servicer_active, servicer.id, self.customer_id)
        command = shadow_command(message.payload.text)
        if command is not None:
            self._voice.heard(message, servicer.id)
            if command.name == "end":
                self._close("servicer_ended")
            elif command.name == "help":
                self._voice.to_servicer(text_payload(self._config.texts.shadow_help))
            else:
                tell(self._deps.pool, ServicerPool.transfer, self.customer_id,
                     command.argument or None)
            return
        self._touch()
        canned = canned_command(message.payload.text)
        if canned is not None:  # "#name": a canned reply (actors/session/canned.py)
            self._voice.heard(message, servicer.id)
            reply = canned_reply(canned, self._config, self._deps.store, state.shadow.customer_name
                                 if state.shadow else self.customer_id, servicer.id, servicer.name)
            if reply.to_servicer:
                self._voice.to_servicer(text_payload(reply.to_servicer))
            if reply.to_customer:
                self._relay(text_payload(reply.to_customer), servicer)
            return
        self._relay(message.payload, servicer)

    def _relay(self, payload: Payload, servicer: Servicer) -> None:
        """The seated servicer's reply, to the customer as the CS Robot, ``extra`` naming them."""
        state = self._state
        if not state.replied:
            state.replied = True
            elapsed_ms = int((self._deps.clock.monotonic() - state.seated_mono) * 1000)
            self._ledger.count(servicer.id, "first_response_ms", max(0, elapsed_ms))
            self._ledger.count(servicer.id, "first_responses")
        self._ledger.count(servicer.id, "replies")
        self._voice.to_customer(payload.with_extra({"cs": servicer.relay_info()}),
                                servicer.id, servicer.name)
        self._bot.servicer_answered(payload.text)  # the inbox keeps the first (issue 24)

    def _request_human(self, group: str, priority: int | None = None) -> None:
        if unhelpful := self._bot.unhelpful_answer():
            self._ledger.count_answer(unhelpful, "then_human")
        self._seats.request_human(group, priority)

    # The bot ------------------------------------------------------------------

    def _answer(self, text: str, message_id: int) -> None:
        picked = self._bot.choice(text)
        ask_bot, calls = self._deps.ask_bot, self._deps.bot_calls
        if picked is not None:
            self._reply(picked)
        elif ask_bot is None:
            self._reply(self._bot.from_knowledge(text))  # the engine hears "a person" too
        elif self._deps.autoreply.wants_human(text):
            self._request_human("")  # never sent to the external bot
        elif BotCalls.busy(calls):
            log.warning("bot webhook busy; %s answered from knowledge", self.customer_id)
            self._reply(self._bot.from_knowledge(text))
        else:
            self._ledger.unhandled(message_id)  # until answered: see actors/session/botcalls.py
            self._state.forget(message_id)
            ref = self.actor_ref
            self._bot_calls.ask(calls, ask_bot, self.customer_id, text, message_id,
                                lambda answer: tell(ref, SessionActor.bot_answered, text,
                                                    answer, message_id))

    def bot_answered(self, question: str, answer: BotAnswer | None, message_id: int) -> None:
        """The external bot answered, or failed (told by the webhook greenlet)."""
        self._ledger.handled(message_id)
        self._state.remember(message_id)
        self._bot_calls.answered(message_id)
        self._ledger.dirty = True
        if self._state.mode != AUTO:
            return  # the customer moved on (to a person, or away)
        if answer is None:
            self._reply(self._bot.from_knowledge(question))
        elif answer.handoff:
            self._request_human("")
        else:
            self._voice.to_customer(text_payload(answer.answer))

    def _reply(self, reply: BotReply) -> None:
        if reply.wants_human:
            return self._request_human("")
        if reply.shown:
            self._ledger.count_answer(reply.shown, "shown")
        self._voice.to_customer(text_payload(reply.text))

    # Guards, mode and timers ------------------------------------------------

    def _seen(self, message: Inbound) -> bool:
        if message.message_id not in self._bot_calls.held:  # else its journal entry stays
            self._ledger.handled(message.message_id)
            if not self._state.seen_before(message.message_id):
                self._ledger.dirty = True
                return False
        log.info("duplicate message %s for %s ignored", message.message_id, self.customer_id)
        return True

    def _flooding(self) -> bool:
        """Over the per-customer rate: tell the customer once, handle nothing."""
        over, tell_them = self._flood.over(self._deps.clock.monotonic())
        if tell_them:
            self._voice.to_customer(text_payload(self._config.texts.too_fast))
        if over:
            log.warning("customer %s over the rate limit; message not handled", self.customer_id)
        return over

    def _set_mode(self, mode: str) -> None:
        self._state.mode = mode
        self._ledger.dirty = True
        if mode != CLOSED:
            self._touch()

    def _touch(self) -> None:
        deadline = self._state.deadline_mono = (self._deps.clock.monotonic()
                                                + self._state.idle_secs(self._config))
        self._ledger.dirty = True
        self._timer.move_earlier(deadline)
        self._arm()

    def _arm(self) -> None:
        if self._state.mode != CLOSED:
            self._timer.arm(self._state.deadline_mono, SessionActor.idle_expired)

    def idle_expired(self) -> None:
        """The idle timer fired; a stale firing re-arms instead."""
        self._timer.fired()
        if self._state.mode == CLOSED:
            return
        if self._deps.clock.monotonic() >= self._state.deadline_mono:
            self._close("rating_over" if self._state.mode == RATING else "idle")
        else:
            self._arm()

    def retry_commit(self) -> None:
        """Storage was unreachable; try saving again (told by a timer)."""
        self._commit_retry = None

    def _cancel_timers(self) -> None:
        self._timer.cancel()
        if self._commit_retry is not None:
            self._commit_retry.cancel()
        self._commit_retry = None

    def _snapshot_or_none(self) -> dict[str, Any] | None:
        return None if self._state.mode == CLOSED else self.state()

    def _commit(self) -> None:
        if self._ledger.commit(self._snapshot_or_none):
            return
        if self._commit_retry is None and self._state.mode != CLOSED:
            self._commit_retry = tell_later(self._deps.clock, COMMIT_RETRY_SECS,
                                            self.actor_ref, SessionActor.retry_commit)

    # Ending and rating ---------------------------------------------------

    def _close(self, reason: str) -> None:
        """End the conversation; after a human part, wait a while for a rating."""
        state, texts, voice = self._state, self._config.texts, self._voice
        was_human = state.with_person
        if was_human and state.servicer is not None:
            notice = {"idle": texts.servicer_idle_end, "left": texts.servicer_customer_left,
                      "servicer_ended": texts.servicer_ended}[reason]
            voice.to_servicer(text_payload(notice))
            self._ledger.count(state.servicer.id, "sessions")
        if reason == "idle":
            voice.notify(texts.idle_end, ENDED)
        elif reason == "servicer_ended":
            voice.notify(texts.servicer_end, ENDED)
        if state.mode in WAITING or was_human:
            self._seats.release()
        state.servicer = None
        if was_human:
            self._ask_for_rating()
            return
        self._bot.ended()  # counts whether the bot ended it alone (issue 24)
        for held in self._bot_calls.held:  # a question the bot never answered is done with
            self._ledger.handled(held)
        self._ledger.ended({"customer": self.customer_id, "session": state.session_id,
                            "servicers": list(state.served_by), "reason": reason,
                            "stars": state.stars, "closed": int(self._deps.clock.now() * 1000)})
        self._set_mode(CLOSED)
        self._cancel_timers()
        tell(self._deps.directory, Directory.session_closed, self.customer_id, self.actor_ref)
        log.info("session %s closed (%s)", self.customer_id, reason)

    def _ask_for_rating(self) -> None:
        servicer = self._state.last_servicer
        assert servicer is not None
        self._set_mode(RATING)
        self._voice.to_customer(rating_request(self._state.session_id, servicer, self._config))


# The one dispatcher of typed messages: message type -> what handles it.
_DISPATCH: dict[type, Callable[[SessionActor, Any], None]] = {
    CustomerMessage: SessionActor._on_customer_message,
    ServicerMessage: SessionActor._on_servicer_message,
    SeatAssigned: lambda session, notice: session._seats.seat_assigned(notice),
    Queued: lambda session, notice: session._seats.queued(notice),
    SeatUnavailable: lambda session, notice: session._seats.seat_unavailable(notice),
    SeatRevoked: lambda session, notice: session._seats.seat_revoked(notice),
    TransferFailed: lambda session, notice: session._seats.transfer_failed(notice),
    PoolRestarted: lambda session, notice: session._seats.pool_restarted(notice),
    Monitor: lambda session, notice: session._watch.changed(notice),
}
