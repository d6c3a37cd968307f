"""What every session holds and how it speaks: state, snapshot, timer, output, save.

``SessionActor`` (actors/session.py) is built on this in two layers: the
seat rules (actors/seating.py), then the conversation's course. This layer
knows no customer-service rule; it keeps the session's state, writes and
restores its snapshot, keeps the idle deadline, drops repeated and
too-frequent messages, and hands every outgoing message and history entry
to the Ledger, which saves them when a message has been handled.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from actors.autoreply.engine import AutoReply
from actors.call import Address, Receiver, tell_later
from actors.clock import Cancellable, Clock
from actors.config import CsConfig
from actors.durability.ledger import Ledger
from actors.mailbox import GreenletActor
from actors.messages import (
    BotAnswer,
    Inbound,
    Outbound,
    Payload,
    Servicer,
    ShadowInfo,
    text_payload,
)
from actors.ratelimit import LeakyBucket
from actors.session.dialogue import BotDialogue
from actors.session.snapshot import RECENT_IDS_KEPT, SessionSnapshot
from storage.errors import CsError

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

# Callbacks are repeated when the IM server's HTTP client retries a POST on a
# dead pooled connection (DESIGN.md §4); the last ids seen (RECENT_IDS_KEPT)
# are enough to catch a repeat in practice.
COMMIT_RETRY_SECS = 1.0
FLOOD_PERIOD_SECS = 10.0

AUTO, REQUESTING, QUEUED, HUMAN, RATING, CLOSED = (
    "auto", "requesting", "queued", "human", "rating", "closed")
WAITING = (REQUESTING, QUEUED)


class ShadowError(CsError):
    """The Shadow could not be created or looked up."""

    code = "shadow_failed"
    http_status = 502


class SessionDeps(NamedTuple):
    """The collaborators every session shares (handles and plain objects)."""

    config: CsConfig
    robot_id: str
    outbox: Outbox
    pool: Address  # the ServicerPool (a supervised handle: it may be restarted)
    directory: Address  # the Directory (likewise)
    store: Store
    ensure_shadow: Callable[[str], ShadowInfo]
    clock: Clock
    autoreply: AutoReply
    # (customer id, question) -> the external bot's answer, or None on failure;
    # blocking with a time-out, so it runs in a greenlet of the bot_calls pool.
    ask_bot: Callable[[str, str], BotAnswer | None] | None = None
    control_types: frozenset[int] = frozenset()  # left out of transcripts
    bot_calls: Any = None  # gevent.pool.Pool bounding the external bot's calls in flight


class SessionBase(Receiver, GreenletActor):
    """A session's state and its means; the rules live in the subclasses."""

    use_daemon_thread = True
    # Message type -> handler, filled in by SessionActor (one dispatcher).
    _dispatch: dict[type, Callable[[Any, Any], None]] = {}

    def __init__(self, customer_id: str, deps: SessionDeps,
                 snapshot: SessionSnapshot | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self._deps = deps
        self._config = deps.config
        self._mode = AUTO
        self._group = ""
        self._priority = 0
        self._shadow: ShadowInfo | None = None
        self._servicer: Servicer | None = None
        self._last_servicer: Servicer | None = None  # who the rating is for
        self._served_by: list[str] = []  # every servicer of this session, in order
        self._stars: int | None = None  # the customer's rating, once given
        self._seated_mono = 0.0  # monotonic time of the last seat
        self._replied = False
        self._deadline_mono = 0.0  # the idle deadline, on the monotonic clock
        self._last_t = -1  # time (ms) of the last history entry; -1: not read yet
        self._recent: list[int] = []  # a list: most sessions see a handful of ids
        self._newest_id = 0  # the highest id ever seen: a newer one cannot be a repeat
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
        self._ledger.seq = snapshot.seq if snapshot else 0
        self._ledger.dirty = snapshot is None

    @property
    def session_id(self) -> str:
        return f"{self.customer_id}:{self._opened}"

    def describe(self) -> str:
        return f"session {self.customer_id}"

    def state(self) -> dict[str, Any]:
        return self.to_snapshot()

    def on_receive(self, message: Any) -> Any:
        """The message boundary: one bad message is logged, never kills the
        session; whatever the message changed is saved."""
        try:
            handle = self._dispatch.get(type(message))
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

    def retry_commit(self) -> None:
        """Storage was unreachable; try saving again (told by a timer)."""
        self._commit_retry = None

    # Snapshot -------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        clock = self._deps.clock
        wall = clock.now() - clock.monotonic()  # monotonic -> wall, for the record
        return SessionSnapshot(
            customer=self.customer_id, mode=self._mode, group=self._group,
            priority=self._priority, shadow=self._shadow, servicer=self._servicer,
            last_servicer=self._last_servicer, served_by=tuple(self._served_by),
            seated_at=self._seated_mono + wall if self._seated_mono else 0.0,
            replied=self._replied, deadline=self._deadline_mono + wall,
            recent=tuple(self._recent), seq=self._ledger.seq, opened=self._opened,
            last_t=self._last_t).to_dict()

    def _snapshot_or_none(self) -> dict[str, Any] | None:
        return None if self._mode == CLOSED else self.to_snapshot()

    def _restore(self, snapshot: SessionSnapshot) -> None:
        clock = self._deps.clock
        mono = clock.monotonic() - clock.now()  # wall -> monotonic, for this process
        self._mode = snapshot.mode
        self._group = snapshot.group
        self._priority = snapshot.priority
        self._shadow = snapshot.shadow
        self._servicer = snapshot.servicer
        self._last_servicer = snapshot.last_servicer
        self._served_by = list(snapshot.served_by)
        self._seated_mono = snapshot.seated_at + mono if snapshot.seated_at else 0.0
        self._replied = snapshot.replied
        self._deadline_mono = snapshot.deadline + mono if snapshot.deadline else 0.0
        self._recent = list(snapshot.recent)
        self._newest_id = max(self._recent, default=0)
        self._opened = snapshot.opened or self._opened
        self._last_t = snapshot.last_t

    # Guards -----------------------------------------------------------------

    def _seen(self, message: Inbound) -> bool:
        self._ledger.handled(message.message_id)
        # The IM server's ids grow with time, so a new message's id is nearly
        # always above all we kept; scanning them (1% of the server's CPU under
        # load, py-spy) is left for ids that might repeat.
        if message.message_id <= self._newest_id and message.message_id in self._recent:
            log.info("duplicate message %s for %s ignored", message.message_id,
                     self.customer_id)
            return True
        self._remember_id(message.message_id)
        return False

    def _remember_id(self, message_id: int) -> None:
        if message_id in self._recent:
            return
        self._recent.append(message_id)
        self._newest_id = max(self._newest_id, message_id)
        if len(self._recent) > RECENT_IDS_KEPT:
            del self._recent[0]
        self._ledger.dirty = True

    def _hold(self, message_id: int) -> None:
        """Keep a message's journal entry, and forget having seen it, until it is
        dealt with (an external bot thinks): a restart then replays it."""
        self._ledger.unhandled(message_id)
        if message_id in self._recent:
            self._recent.remove(message_id)

    def _flooding(self) -> bool:
        """Over the per-customer rate: tell the customer once, handle nothing."""
        limit = self._config.customer_rate_limit
        if limit <= 0:
            return False
        now = self._deps.clock.monotonic()
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

    # Mode and idle timer ----------------------------------------------------

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
        if self._mode in WAITING:
            # The queue's wait rule governs a waiting customer (the pool ends
            # the wait); this only catches a pool that never answers.
            return self._config.queue_max_wait_secs + self._config.idle_auto_secs
        return self._config.idle_auto_secs

    def _touch(self) -> None:
        self._deadline_mono = self._deps.clock.monotonic() + self._idle_secs()
        self._ledger.dirty = True
        if self._timer is not None and self._timer_at > self._deadline_mono:
            self._timer.cancel()
            self._timer = None
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None or self._mode == CLOSED:
            return
        self._timer_at = self._deadline_mono
        self._timer = tell_later(
            self._deps.clock, self._deadline_mono - self._deps.clock.monotonic(),
            self.actor_ref, SessionBase._idle_timer_fired)

    def _idle_timer_fired(self) -> None:
        self._timer = None
        self.idle_expired()

    def idle_expired(self) -> None:
        """The idle deadline may have passed (the subclass closes the session)."""

    def _cancel_timers(self) -> None:
        for timer in (self._timer, self._commit_retry):
            if timer is not None:
                timer.cancel()
        self._timer = self._commit_retry = None

    # Output and saving --------------------------------------------------------

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
        if self._last_t < 0:
            self._last_t = self._stored_last_t()
        self._last_t = max(int(self._deps.clock.now() * 1000), self._last_t + 1)
        entry: dict[str, Any] = {"t": self._last_t, "dir": direction,
                                 "from": sender, "payload": payload.to_wire()}
        if servicer:
            entry["servicer"] = servicer
        if dropped:
            entry["dropped"] = True
        self._ledger.record(entry)

    def _stored_last_t(self) -> int:
        """The newest entry's time in the stored history: a new entry must come
        after it (the console pages with "after the newest t it has"), even if
        the wall clock stepped back since, or this is a new session."""
        try:
            last = self._deps.store.history(self.customer_id, 1)
        except Exception:
            log.warning("history of %s not read; its times follow the clock",
                        self.customer_id)
            return 0
        t = last[0].get("t", 0) if last else 0
        return t if isinstance(t, int) and not isinstance(t, bool) else 0

    def _commit(self) -> None:
        if self._ledger.commit(self._snapshot_or_none):
            return
        if self._commit_retry is None and self._mode != CLOSED:
            self._commit_retry = tell_later(self._deps.clock, COMMIT_RETRY_SECS,
                                            self.actor_ref, SessionBase.retry_commit)
