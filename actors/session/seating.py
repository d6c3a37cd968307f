"""How a session gets a person and keeps one: the seat rules a SessionActor is composed of.

The ServicerPool decides who serves whom; these rules are the session's
side of it: asking for a seat, waiting in the queue, taking the seat (and
a Shadow for it), moving to another servicer, losing the seat, and which
servicers may write to the customer. They change the session's state and
speak through its voice; the mode (and with it the idle deadline) changes
through the ``set_mode`` the actor gives them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors.call import tell
from actors.directory import Directory
from actors.messages import (
    Inbound,
    PoolRestarted,
    Queued,
    Seat,
    SeatAssigned,
    SeatRevoked,
    SeatUnavailable,
    Servicer,
    TransferFailed,
    text_payload,
)
from actors.pool import ServicerPool
from actors.pool.eta import wait_words
from actors.session import voice as session_is
from actors.session.deps import SessionDeps, ShadowError
from actors.session.state import (
    AUTO,
    HUMAN,
    LEAVING,
    QUEUED,
    REQUESTING,
    WAITING,
    SessionState,
)
from actors.session.transcript import transcript
from storage.customers import CustomerStore

if TYPE_CHECKING:
    from actors.session.voice import Voice

log = logging.getLogger(__name__)


class SeatRules:
    __slots__ = ("_state", "_voice", "_deps", "_set_mode", "_session", "_count")

    def __init__(self, state: SessionState, voice: Voice, deps: SessionDeps,
                 set_mode: Callable[[str], None], session: Any,
                 count: Callable[[str, str], None]) -> None:
        self._state = state
        self._voice = voice
        self._deps = deps
        self._set_mode = set_mode
        self._session = session  # the SessionActor's ref, for the pool's notices
        self._count = count  # (servicer id, counter): one more in their statistics

    # Notices from the ServicerPool -----------------------------------------

    def seat_assigned(self, notice: SeatAssigned) -> None:
        """The pool gave this customer a servicer, or moved them to another."""
        seat, state = notice.seat, self._state
        current = state.servicer
        if self._stale(seat.ticket):
            return  # the pool answers the newer request next
        if state.mode in WAITING:
            self._take_seat(seat)
        elif (state.mode == HUMAN and current is not None and seat.previous is not None
              and seat.previous.id == current.id):
            self._hand_over(seat)
        elif not (state.mode == HUMAN and current is not None
                  and current.id == seat.servicer.id):
            self.release()

    def queued(self, notice: Queued) -> None:
        """No seat yet: this is the customer's place in the queue."""
        if self._state.mode in WAITING and not self._stale(notice.ticket):
            self._set_mode(QUEUED)
            zh, en = wait_words(*notice.wait_secs)
            self._voice.notify(self._deps.config.texts.queued.format(
                position=notice.position, ahead=notice.position - 1, wait_zh=zh, wait_en=en),
                session_is.WAITING)

    def seat_unavailable(self, notice: SeatUnavailable) -> None:
        """No seat and no queue: nobody on duty (the customer may leave a message), a
        full queue, or waited too long."""
        state, texts = self._state, self._deps.config.texts
        if state.mode not in WAITING or self._stale(notice.ticket):
            return
        if notice.reason == "no_servicer" and not state.left_message:
            self._offer_message(texts.no_servicer)
            return
        timeout = texts.message_expired if state.left_message else texts.queue_timeout
        state.left_message = False
        self._set_mode(AUTO)
        text = {"queue_full": texts.queue_full,
                "queue_timeout": timeout}.get(notice.reason, texts.no_servicer)
        self._voice.notify(text, session_is.BOT)

    def _offer_message(self, why: str) -> None:
        self._set_mode(LEAVING)
        self._voice.notify(f"{why}\n{self._deps.config.texts.leave_message_offer}",
                           session_is.LEAVING)

    def leave_message(self) -> None:
        """The customer's words after the offer are a message left: it waits in the
        queue, with the history, for the first servicer on duty."""
        self._state.left_message = True
        self._set_mode(QUEUED)
        self._voice.notify(self._deps.config.texts.message_left, session_is.WAITING)
        self.ask_for_seat(new=True)

    def seat_revoked(self, notice: SeatRevoked) -> None:
        """The servicer went off duty under the requeue policy; the queue follows."""
        state = self._state
        if state.with_person and state.servicer is not None \
                and state.servicer.id == notice.servicer.id:
            state.servicer = None
            self._set_mode(QUEUED)

    def transfer_failed(self, notice: TransferFailed) -> None:
        if self._state.with_person:
            self._voice.to_servicer(text_payload(
                self._deps.config.texts.transfer_failed.format(reason=notice.reason)))

    def pool_restarted(self, notice: PoolRestarted) -> None:
        """The pool lost what it had not saved: ask again for the seat or the place."""
        if self._state.mode in WAITING or self._state.mode == HUMAN:
            self.ask_for_seat()
        else:
            self.release()

    # The session's moves ----------------------------------------------------

    def _stale(self, ticket: int) -> bool:
        """An answer to a request this session has since replaced (0: not known). The
        pool answers the newer request too, so the stale answer is only dropped."""
        stale = bool(ticket) and ticket != self._state.ticket
        if stale:
            log.info("stale seat notice for %s ignored", self._state.customer_id)
        return stale

    def ask_for_seat(self, new: bool = False) -> None:
        """Ask the pool for a seat; ``new``: a new request, not the same one again."""
        state = self._state
        if new:
            state.ticket += 1
        tell(self._deps.pool, ServicerPool.request_seat, state.customer_id, self._session,
             state.group, state.priority, state.left_message, state.ticket)

    def release(self) -> None:
        tell(self._deps.pool, ServicerPool.release_customer, self._state.customer_id,
             self._session)

    def request_human(self, group: str, priority: int | None = None) -> None:
        """Ask the pool for a person; ``priority`` None: the customer's own (set
        by a supervisor), else 0."""
        state, texts = self._state, self._deps.config.texts
        hours = self._deps.config.business_hours
        if state.with_person and state.servicer is not None:
            self._voice.notify(texts.already_human.format(servicer_name=state.servicer.name),
                               session_is.PERSON)
        elif state.mode == AUTO and hours and not hours.is_open(now := self._deps.clock.now(),
                                                                group):
            zh, en = hours.next_open_words(now, group)
            state.group = group
            state.priority = priority if priority is not None else self._stored_priority()
            self._offer_message(texts.offline.format(
                hours=hours.describe(group), next_open_zh=zh, next_open_en=en))
        elif state.mode == AUTO:
            state.group = group
            state.priority = priority if priority is not None else self._stored_priority()
            self._set_mode(REQUESTING)
            self.ask_for_seat(new=True)

    def _stored_priority(self) -> int:
        try:
            stored = CustomerStore.of(self._deps.store).priority(self._state.customer_id)
        except Exception:
            log.warning("priority of %s not read; 0 is used", self._state.customer_id)
            return 0
        return stored if stored is not None else 0

    def refuse_servicer(self, message: Inbound) -> None:
        """Only the seated servicer talks to the customer; others are told, or ignored."""
        state = self._state
        if message.sender in state.served_by:
            texts = self._deps.config.texts
            notice = (texts.servicer_session_over if state.mode != HUMAN
                      else texts.servicer_not_yours)
            self._voice.as_shadow(message.target, message.sender, text_payload(notice))
        else:
            log.warning("ignored message from %s to the shadow of %s", message.sender,
                        state.customer_id)

    def _take_seat(self, seat: Seat) -> None:
        state, texts = self._state, self._deps.config.texts
        try:
            shadow = state.shadow or self._deps.ensure_shadow(state.customer_id)
        except ShadowError:
            log.exception("no shadow for %s", state.customer_id)
            self.release()
            self._set_mode(AUTO)
            self._voice.notify(texts.shadow_failed, session_is.BOT)
            return
        tell(self._deps.directory, Directory.shadow_bound, shadow.shadow_id, state.customer_id)
        state.shadow = shadow
        state.left_message = False
        self._seat_with(seat.servicer)
        self._voice.notify(texts.seat_assigned.format(servicer_name=seat.servicer.name),
                           session_is.PERSON)
        self._brief_servicer(texts.servicer_seat.format(
            customer_name=shadow.customer_name, customer_id=state.customer_id))
        log.info("customer %s seated with %s", state.customer_id, seat.servicer.id)

    def _hand_over(self, seat: Seat) -> None:
        state, texts = self._state, self._deps.config.texts
        assert seat.previous is not None and state.shadow is not None
        away = texts.servicer_reassigned_away if seat.missed else texts.servicer_transferred_away
        self._voice.to_servicer(text_payload(away.format(servicer_name=seat.servicer.name)))
        if seat.missed:
            self._count(seat.previous.id, "missed")
        self._seat_with(seat.servicer)
        self._voice.notify(texts.transferred.format(servicer_name=seat.servicer.name),
                           session_is.PERSON)
        self._brief_servicer(texts.servicer_transferred_in.format(
            previous_name=seat.previous.name, customer_name=state.shadow.customer_name,
            customer_id=state.customer_id))
        log.info("customer %s moved from %s to %s", state.customer_id, seat.previous.id,
                 seat.servicer.id)

    def _seat_with(self, servicer: Servicer) -> None:
        state = self._state
        state.servicer = state.last_servicer = servicer
        # A supervisor who took the customer over serves now; they no longer watch.
        state.monitors = tuple(m for m in state.monitors if m != servicer.id)
        if servicer.id not in state.served_by:
            state.served_by.append(servicer.id)
        state.seated_mono = self._deps.clock.monotonic()
        state.replied = False
        self._set_mode(HUMAN)

    def _brief_servicer(self, notice: str) -> None:
        """The seat notice, then the recent history, as the Shadow."""
        self._voice.to_servicer(text_payload(notice))
        limit = self._deps.config.history_on_seat
        if limit <= 0:
            return
        customer = self._state.customer_id
        try:
            entries = self._deps.store.history(customer, limit)
        except Exception:
            log.exception("history of %s not read", customer)
            return
        text = transcript(entries, customer, self._deps.control_types)
        if text:
            self._voice.to_servicer(text_payload(
                self._deps.config.texts.servicer_history.format(history=text)))
