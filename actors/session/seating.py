"""How a session gets a person and keeps one: the seat rules of ``SessionActor``.

The ServicerPool decides who serves whom; these rules are the session's
side of it: asking for a seat, waiting in the queue, taking the seat (and
a Shadow for it), moving to another servicer, losing the seat, and which
servicers may write to the customer.
"""

from __future__ import annotations

import logging

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
from actors.session.base import (
    AUTO,
    HUMAN,
    QUEUED,
    REQUESTING,
    WAITING,
    SessionBase,
    ShadowError,
)
from actors.session.transcript import transcript

log = logging.getLogger(__name__)


class Seating(SessionBase):
    """The seat messages from the pool, and the session's seat moves."""

    # Messages from the ServicerPool --------------------------------------

    def _on_seat_assigned(self, notice: SeatAssigned) -> None:
        """The pool gave this customer a servicer, or moved them to another."""
        seat = notice.seat
        current = self._servicer
        if self._mode in WAITING:
            self._take_seat(seat)
        elif (self._mode == HUMAN and current is not None and seat.previous is not None
              and seat.previous.id == current.id):
            self._hand_over(seat)
        elif not (self._mode == HUMAN and current is not None
                  and current.id == seat.servicer.id):
            self._release_seat()

    def _on_queued(self, notice: Queued) -> None:
        """No seat yet: this is the customer's place in the queue."""
        position = notice.position
        if self._mode in WAITING:
            self._set_mode(QUEUED)
            self._to_customer(text_payload(self._config.texts.queued.format(
                position=position, ahead=position - 1)))

    def _on_seat_unavailable(self, notice: SeatUnavailable) -> None:
        """No seat and no queue: nobody on duty, a full queue, or waited too long."""
        reason = notice.reason
        if self._mode not in WAITING:
            return
        self._set_mode(AUTO)
        texts = self._config.texts
        text = {"queue_full": texts.queue_full,
                "queue_timeout": texts.queue_timeout}.get(reason, texts.no_servicer)
        self._to_customer(text_payload(text))

    def _on_seat_revoked(self, notice: SeatRevoked) -> None:
        """The servicer went off duty under the requeue policy; the queue follows."""
        servicer = notice.servicer
        if self._mode == HUMAN and self._servicer is not None \
                and self._servicer.id == servicer.id:
            self._servicer = None
            self._set_mode(QUEUED)

    def _on_transfer_failed(self, notice: TransferFailed) -> None:
        if self._mode == HUMAN and self._servicer is not None:
            self._to_servicer(text_payload(
                self._config.texts.transfer_failed.format(reason=notice.reason)))

    def _on_pool_restarted(self, notice: PoolRestarted) -> None:
        """The pool lost what it had not saved: ask again for the seat or the place."""
        if self._mode in WAITING or self._mode == HUMAN:
            self._ask_for_seat()
        else:
            self._release_seat()

    def _ask_for_seat(self) -> None:
        tell(self._deps.pool, ServicerPool.request_seat, self.customer_id, self.actor_ref,
             self._group, self._priority)

    def _release_seat(self) -> None:
        tell(self._deps.pool, ServicerPool.release_customer, self.customer_id)

    # The session's moves ----------------------------------------------------

    def _request_human(self, group: str, priority: int = 0) -> None:
        unhelpful = self._bot.unhelpful_answer()
        if unhelpful:
            self._ledger.count_answer(unhelpful, "then_human")
        texts = self._config.texts
        hours = self._config.business_hours
        if self._mode == HUMAN and self._servicer is not None:
            self._to_customer(text_payload(texts.already_human.format(
                servicer_name=self._servicer.name)))
        elif self._mode == AUTO and hours and not hours.is_open(self._deps.clock.now()):
            self._to_customer(text_payload(texts.offline.format(hours=hours.describe())))
        elif self._mode == AUTO:
            self._group = group
            self._priority = priority
            self._set_mode(REQUESTING)
            self._ask_for_seat()

    def _take_seat(self, seat: Seat) -> None:
        try:
            shadow = self._shadow or self._deps.ensure_shadow(self.customer_id)
        except ShadowError:
            log.exception("no shadow for %s", self.customer_id)
            self._release_seat()
            self._set_mode(AUTO)
            self._to_customer(text_payload(self._config.texts.shadow_failed))
            return
        tell(self._deps.directory, Directory.shadow_bound, shadow.shadow_id, self.customer_id)
        self._shadow = shadow
        self._seat_with(seat.servicer)
        texts = self._config.texts
        self._to_customer(text_payload(texts.seat_assigned.format(
            servicer_name=seat.servicer.name)))
        self._brief_servicer(texts.servicer_seat.format(
            customer_name=shadow.customer_name, customer_id=self.customer_id))
        log.info("customer %s seated with %s", self.customer_id, seat.servicer.id)

    def _hand_over(self, seat: Seat) -> None:
        texts = self._config.texts
        assert seat.previous is not None and self._shadow is not None
        self._to_servicer(text_payload(texts.servicer_transferred_away.format(
            servicer_name=seat.servicer.name)))
        self._seat_with(seat.servicer)
        self._to_customer(text_payload(texts.transferred.format(
            servicer_name=seat.servicer.name)))
        self._brief_servicer(texts.servicer_transferred_in.format(
            previous_name=seat.previous.name, customer_name=self._shadow.customer_name,
            customer_id=self.customer_id))
        log.info("customer %s moved from %s to %s", self.customer_id, seat.previous.id,
                 seat.servicer.id)

    def _seat_with(self, servicer: Servicer) -> None:
        self._servicer = self._last_servicer = servicer
        if servicer.id not in self._served_by:
            self._served_by.append(servicer.id)
        self._seated_mono = self._deps.clock.monotonic()
        self._replied = False
        self._set_mode(HUMAN)

    def _brief_servicer(self, notice: str) -> None:
        """The seat notice, then the recent history, as the Shadow."""
        self._to_servicer(text_payload(notice))
        limit = self._config.history_on_seat
        if limit <= 0:
            return
        try:
            entries = self._deps.store.history(self.customer_id, limit)
        except Exception:
            log.exception("history of %s not read", self.customer_id)
            return
        text = transcript(entries, self.customer_id, self._deps.control_types)
        if text:
            self._to_servicer(text_payload(
                self._config.texts.servicer_history.format(history=text)))

    def _refuse_servicer(self, message: Inbound) -> None:
        """Only the seated servicer talks to the customer; others are told, or ignored."""
        if message.sender in self._served_by:
            texts = self._config.texts
            notice = (texts.servicer_session_over if self._mode != HUMAN
                      else texts.servicer_not_yours)
            self._say_as_shadow(message.target, message.sender, text_payload(notice))
        else:
            log.warning("ignored message from %s to the shadow of %s", message.sender,
                        self.customer_id)
