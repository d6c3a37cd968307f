"""SessionActor: one customer's conversation, from the first message to its end.

Mode goes ``auto`` -> ``requesting`` (waiting for the pool's answer) ->
``queued`` (no free seat yet) -> ``human`` -> ``rating`` (the human part
ended; the customer may rate it) -> ``closed``. The actor owns its mode,
Shadow, servicer and idle timer; its Ledger saves what each message changed.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import gevent
import pykka

from actors.autoreply import AutoReply
from actors.call import CallReceiver, tell, tell_later
from actors.clock import Cancellable, Clock
from actors.commands import shadow_command
from actors.config import CsConfig
from actors.dialogue import BotDialogue, BotReply
from actors.ledger import Ledger
from actors.messages import (
    BotAnswer,
    Inbound,
    Outbound,
    Payload,
    Seat,
    Servicer,
    ShadowInfo,
    text_payload,
)
from actors.pool import servicer_info
from actors.ratelimit import LeakyBucket
from actors.rating import read_rating
from actors.transcript import transcript

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 2
# Callbacks are not retried by the IM server, but proxies and replays can
# repeat one; the last ids seen are enough to catch a repeat in practice.
RECENT_IDS_KEPT = 64
COMMIT_RETRY_SECS = 1.0
FLOOD_PERIOD_SECS = 10.0
MAX_GROUP_CHARS = 64

AUTO, REQUESTING, QUEUED, HUMAN, RATING, CLOSED = (
    "auto", "requesting", "queued", "human", "rating", "closed")
WAITING = (REQUESTING, QUEUED)


class ShadowError(Exception):
    """The Shadow could not be created or looked up."""


class SessionDeps(NamedTuple):
    """The collaborators every session shares (proxies and plain objects)."""

    config: CsConfig
    robot_id: str
    outbox: Any
    pool: Any
    directory: Any
    store: Store
    ensure_shadow: Callable[[str], ShadowInfo]
    clock: Clock
    autoreply: AutoReply
    # (customer id, question) -> the external bot's answer, or None on failure;
    # blocking with a time-out, so it runs in a greenlet of its own.
    ask_bot: Callable[[str, str], BotAnswer | None] | None = None
    control_types: frozenset[int] = frozenset()  # left out of transcripts


F = TypeVar("F", bound=Callable[..., Any])


def _message(method: F) -> F:
    """Message boundary: one bad message is logged, never kills the session."""

    @functools.wraps(method)
    def wrapper(self: SessionActor, *args: Any) -> Any:
        try:
            return method(self, *args)
        except Exception:
            log.exception("session %s failed on %s", self.customer_id, method.__name__)
            return None
        finally:
            self._commit()

    return wrapper  # type: ignore[return-value]


class SessionActor(CallReceiver, pykka.ThreadingActor):
    """One customer's session. Started and stopped by the Directory.

    Addressed with ``actors.call.tell(ref, "method", ...)``, not a proxy.
    """

    use_daemon_thread = True

    def __init__(self, customer_id: str, deps: SessionDeps,
                 snapshot: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self._deps = deps
        self._config = deps.config
        self._mode = AUTO
        self._group = ""
        self._shadow: ShadowInfo | None = None
        self._servicer: Servicer | None = None
        self._last_servicer: Servicer | None = None  # who the rating is for
        self._served_by: list[str] = []  # every servicer of this session, in order
        self._stars: int | None = None  # the customer's rating, once given
        self._seated_at = 0.0
        self._replied = False
        self._deadline = 0.0
        self._last_t = 0  # time (ms) of the last history entry
        self._recent: list[int] = []  # a list: most sessions see a handful of ids
        self._timer: Cancellable | None = None
        self._timer_at = 0.0
        self._commit_retry: Cancellable | None = None
        self._bot = BotDialogue(deps.autoreply, deps.config.texts)
        self._flood: LeakyBucket | None = None
        self._flood_told = False
        self._opened = f"{int(deps.clock.now() * 1000):013d}.{uuid.uuid4().hex[:8]}"
        if snapshot is not None:
            self._restore(snapshot)
        self._ledger = Ledger(customer_id, deps.store, deps.outbox, self._opened)
        self._ledger.seq = int(snapshot.get("seq", 0)) if snapshot else 0
        self._ledger.dirty = snapshot is None

    @property
    def session_id(self) -> str:
        return f"{self.customer_id}:{self._opened}"

    def on_start(self) -> None:
        if not self._deadline:
            self._touch()
        self._arm()
        if self._mode in WAITING or self._mode == HUMAN:
            # Re-attach to the pool after a restart: it answers with the same
            # seat, or with the place in the queue it kept.
            self._deps.pool.request_seat.defer(self.customer_id, self.actor_ref, self._group)

    def on_stop(self) -> None:
        if self._ledger.pending:
            self._ledger.commit(self._snapshot_or_none)
        for timer in (self._timer, self._commit_retry):
            if timer is not None:
                timer.cancel()

    # Messages from the Directory -----------------------------------------

    @_message
    def receive_customer_message(self, message: Inbound) -> None:
        """A message the customer sent to the CS Robot (runs in the session)."""
        if self._mode == CLOSED:
            self._deps.directory.route_customer.defer(message)  # to a new session
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
            self._request_human(_group_of(payload))
        elif self._mode == HUMAN:
            self._to_servicer(payload)
        elif payload.text:
            self._answer(payload.text)
        else:
            self._to_customer(text_payload(self._config.texts.fallback))

    @_message
    def bot_answered(self, question: str, answer: BotAnswer | None) -> None:
        """The external bot answered, or failed (told by the webhook greenlet)."""
        if self._mode != AUTO:
            return  # the customer moved on (to a person, or away)
        if answer is None:
            self._reply(self._bot.from_knowledge(question))
        elif answer.handoff:
            self._request_human("")
        else:
            self._to_customer(text_payload(answer.answer))

    @_message
    def receive_servicer_message(self, message: Inbound) -> None:
        """A message a servicer sent to this customer's Shadow (runs in the session)."""
        if self._seen(message):
            return
        servicer = self._servicer
        if self._mode != HUMAN or servicer is None or message.sender != servicer.id:
            self._refuse_servicer(message)
            return
        self._deps.pool.servicer_active.defer(servicer.id)
        command = shadow_command(message.payload.text)
        if command is not None:
            self._record("in", message.sender, message.payload, servicer=servicer.id)
            if command.name == "end":
                self._close("servicer_ended")
            else:
                self._deps.pool.transfer.defer(self.customer_id, command.argument or None)
            return
        self._touch()
        if not self._replied:
            self._replied = True
            elapsed_ms = int((self._deps.clock.now() - self._seated_at) * 1000)
            self._ledger.count(servicer.id, "first_response_ms", max(0, elapsed_ms))
            self._ledger.count(servicer.id, "first_responses")
        self._ledger.count(servicer.id, "replies")
        relayed = message.payload.with_extra({"cs": servicer_info(servicer)})
        self._to_customer(relayed, servicer=servicer.id)

    # Messages from the ServicerPool --------------------------------------

    @_message
    def seat_assigned(self, seat: Seat) -> None:
        """The pool gave this customer a servicer, or moved them to another."""
        current = self._servicer
        if self._mode in WAITING:
            self._take_seat(seat)
        elif (self._mode == HUMAN and current is not None and seat.previous is not None
              and seat.previous.id == current.id):
            self._hand_over(seat)
        elif not (self._mode == HUMAN and current is not None
                  and current.id == seat.servicer.id):
            self._deps.pool.release_customer.defer(self.customer_id)

    @_message
    def queued(self, position: int) -> None:
        """No seat yet: this is the customer's place in the queue."""
        if self._mode in WAITING:
            self._set_mode(QUEUED)
            self._to_customer(text_payload(self._config.texts.queued.format(
                position=position, ahead=position - 1)))

    @_message
    def seat_unavailable(self, customer_id: str, reason: str = "no_servicer") -> None:
        """No seat and no queue: nobody on duty, a full queue, or waited too long."""
        if self._mode not in WAITING:
            return
        self._set_mode(AUTO)
        texts = self._config.texts
        text = {"queue_full": texts.queue_full,
                "queue_timeout": texts.queue_timeout}.get(reason, texts.no_servicer)
        self._to_customer(text_payload(text))

    @_message
    def seat_revoked(self, servicer: Servicer) -> None:
        """The servicer went off duty under the requeue policy; the queue follows."""
        if self._mode == HUMAN and self._servicer is not None \
                and self._servicer.id == servicer.id:
            self._servicer = None
            self._set_mode(QUEUED)

    @_message
    def transfer_failed(self, reason: str) -> None:
        if self._mode == HUMAN and self._servicer is not None:
            self._to_servicer(text_payload(
                self._config.texts.transfer_failed.format(reason=reason)))

    # Timers and queries --------------------------------------------------

    @_message
    def idle_expired(self) -> None:
        """The idle timer fired; a stale firing re-arms instead (runs in the session)."""
        self._timer = None
        if self._mode == CLOSED:
            return
        if self._deps.clock.now() >= self._deadline:
            self._close("rating_over" if self._mode == RATING else "idle")
        else:
            self._arm()

    @_message
    def retry_commit(self) -> None:
        """Storage was unreachable; try saving again (told by a timer)."""
        self._commit_retry = None

    def state(self) -> dict[str, Any]:
        return self.to_snapshot()

    # Snapshot -------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "customer": self.customer_id,
            "mode": self._mode,
            "group": self._group,
            "shadow": list(self._shadow) if self._shadow else None,
            "servicer": list(self._servicer) if self._servicer else None,
            "last_servicer": list(self._last_servicer) if self._last_servicer else None,
            "served_by": list(self._served_by),
            "seated_at": self._seated_at,
            "replied": self._replied,
            "deadline": self._deadline,
            "recent": list(self._recent),
            "seq": self._ledger.seq,
            "opened": self._opened,
        }

    def _snapshot_or_none(self) -> dict[str, Any] | None:
        return None if self._mode == CLOSED else self.to_snapshot()

    def _restore(self, snapshot: dict[str, Any]) -> None:
        # Version 1 had no group, last_servicer, served_by, seated_at or replied.
        self._mode = snapshot.get("mode", AUTO)
        self._group = str(snapshot.get("group", ""))
        if snapshot.get("shadow"):
            self._shadow = ShadowInfo(*snapshot["shadow"])
        if snapshot.get("servicer"):
            self._servicer = Servicer.from_record(snapshot["servicer"])
        if snapshot.get("last_servicer"):
            self._last_servicer = Servicer.from_record(snapshot["last_servicer"])
        self._served_by = [str(s) for s in snapshot.get("served_by", [])]
        self._seated_at = float(snapshot.get("seated_at", 0.0))
        self._replied = bool(snapshot.get("replied", False))
        self._deadline = float(snapshot.get("deadline", 0.0))
        self._recent = [int(m) for m in snapshot.get("recent", [])][-RECENT_IDS_KEPT:]
        self._opened = str(snapshot.get("opened", self._opened))

    # Auto-reply -------------------------------------------------------------

    def _answer(self, text: str) -> None:
        picked = self._bot.choice(text)
        if picked is not None:
            self._reply(picked)
        elif self._deps.autoreply.wants_human(text):
            self._request_human("")
        elif self._deps.ask_bot is not None:
            ask, ref, customer = self._deps.ask_bot, self.actor_ref, self.customer_id
            gevent.spawn(lambda: tell(ref, "bot_answered", text, ask(customer, text)))
        else:
            self._reply(self._bot.from_knowledge(text))

    def _reply(self, reply: BotReply) -> None:
        if reply.wants_human:
            self._request_human("")
            return
        if reply.shown:
            self._ledger.count_answer(reply.shown, "shown")
        self._to_customer(text_payload(reply.text))

    # Seats ----------------------------------------------------------------

    def _request_human(self, group: str) -> None:
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
            self._set_mode(REQUESTING)
            self._deps.pool.request_seat.defer(self.customer_id, self.actor_ref, group)

    def _take_seat(self, seat: Seat) -> None:
        try:
            shadow = self._shadow or self._deps.ensure_shadow(self.customer_id)
        except ShadowError:
            log.exception("no shadow for %s", self.customer_id)
            self._deps.pool.release_customer.defer(self.customer_id)
            self._set_mode(AUTO)
            self._to_customer(text_payload(self._config.texts.shadow_failed))
            return
        self._deps.directory.shadow_bound.defer(shadow.shadow_id, self.customer_id)
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
        self._seated_at = self._deps.clock.now()
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
            self._deps.pool.release_customer.defer(self.customer_id)
        self._servicer = None
        if was_human:
            self._ask_for_rating()
            return
        self._ledger.ended({"customer": self.customer_id, "session": self.session_id,
                            "servicers": list(self._served_by), "reason": reason,
                            "stars": self._stars, "closed": int(self._deps.clock.now() * 1000)})
        self._set_mode(CLOSED)
        for timer in (self._timer, self._commit_retry):
            if timer is not None:
                timer.cancel()
        self._timer = self._commit_retry = None
        self._deps.directory.session_closed.defer(self.customer_id, self.actor_ref)
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

    # Internals -------------------------------------------------------------

    def _seen(self, message: Inbound) -> bool:
        self._ledger.handled(message.message_id)
        if message.message_id in self._recent:
            log.info("duplicate message %s for %s ignored", message.message_id,
                     self.customer_id)
            return True
        self._recent.append(message.message_id)
        if len(self._recent) > RECENT_IDS_KEPT:
            del self._recent[0]
        self._ledger.dirty = True
        return False

    def _flooding(self) -> bool:
        """Over the per-customer rate: tell the customer once, handle nothing."""
        limit = self._config.customer_rate_limit
        if limit <= 0:
            return False
        now = self._deps.clock.now()
        if self._flood is None:
            self._flood = LeakyBucket(limit, FLOOD_PERIOD_SECS, now)
        if self._flood.take(now) == 0:
            self._flood_told = False
            return False
        if not self._flood_told:
            self._flood_told = True
            self._to_customer(text_payload(self._config.texts.too_fast))
        log.warning("customer %s over the rate limit; message not handled", self.customer_id)
        return True

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        self._ledger.dirty = True
        if mode != CLOSED:
            self._touch()

    def _idle_secs(self) -> float:
        if self._mode == HUMAN:
            return self._config.idle_human_secs
        if self._mode == RATING:
            return self._config.rating_window_secs
        return self._config.idle_auto_secs

    def _touch(self) -> None:
        self._deadline = self._deps.clock.now() + self._idle_secs()
        self._ledger.dirty = True
        if self._timer is not None and self._timer_at > self._deadline:
            self._timer.cancel()
            self._timer = None
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None or self._mode == CLOSED:
            return
        self._timer_at = self._deadline
        self._timer = tell_later(self._deps.clock, self._deadline - self._deps.clock.now(),
                                 self.actor_ref, "idle_expired")

    def _to_customer(self, payload: Payload, servicer: str | None = None) -> None:
        robot = self._deps.robot_id
        self._ledger.send(Outbound(robot, self.customer_id, payload, self.customer_id))
        self._record("out", robot, payload, servicer=servicer)

    def _to_servicer(self, payload: Payload) -> None:
        """Forward or notify as the Shadow; the history already holds what the customer said."""
        assert self._shadow is not None and self._servicer is not None
        self._say_as_shadow(self._shadow.shadow_id, self._servicer.id, payload)

    def _say_as_shadow(self, shadow_id: str, servicer_id: str, payload: Payload) -> None:
        self._ledger.send(Outbound(shadow_id, servicer_id, payload, self.customer_id))

    def _record(self, direction: str, sender: str, payload: Payload,
                servicer: str | None = None, dropped: bool = False) -> None:
        # Strictly increasing per customer, so "t" can serve as a paging cursor.
        self._last_t = max(int(self._deps.clock.now() * 1000), self._last_t + 1)
        entry: dict[str, Any] = {"t": self._last_t, "dir": direction,
                                 "from": sender, "payload": payload.to_wire()}
        if servicer:
            entry["servicer"] = servicer
        if dropped:
            entry["dropped"] = True
        self._ledger.record(entry)

    def _commit(self) -> None:
        if self._ledger.commit(self._snapshot_or_none):
            return
        if self._commit_retry is None and self._mode != CLOSED:
            self._commit_retry = tell_later(self._deps.clock, COMMIT_RETRY_SECS,
                                            self.actor_ref, "retry_commit")


def _group_of(payload: Payload) -> str:
    """The group a request-human message asks for: content ``{"group": "..."}``."""
    try:
        data = json.loads(payload.content) if payload.content else {}
    except ValueError:
        return ""
    group = data.get("group", "") if isinstance(data, dict) else ""
    return group[:MAX_GROUP_CHARS] if isinstance(group, str) else ""
