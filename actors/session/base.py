"""What every session holds and how it speaks: state, snapshot, timer, output, save.

``SessionActor`` (actors/session.py) is built on this in two layers: the
seat rules (actors/seating.py), then the conversation's course. This layer
knows no customer-service rule; it keeps the session's state, writes and
restores its snapshot, keeps the idle deadline, drops repeated and
too-frequent messages, and hands every outgoing message and history entry
to the Ledger, which saves them when a message has been handled.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from actors.autoreply.engine import AutoReply
from actors.autoreply.inbox import Inbox
from actors.call import CallReceiver, tell_later
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
from storage.teaching import TeachingStore

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 2
# Callbacks are not retried by the IM server, but proxies and replays can
# repeat one; the last ids seen are enough to catch a repeat in practice.
RECENT_IDS_KEPT = 64
COMMIT_RETRY_SECS = 1.0
FLOOD_PERIOD_SECS = 10.0

AUTO, REQUESTING, QUEUED, HUMAN, RATING, CLOSED = (
    "auto", "requesting", "queued", "human", "rating", "closed")
WAITING = (REQUESTING, QUEUED)


class ShadowError(Exception):
    """The Shadow could not be created or looked up."""


class SessionDeps(NamedTuple):
    """The collaborators every session shares (proxies and plain objects)."""

    config: CsConfig
    robot_id: str
    outbox: Outbox
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


def handler(method: F) -> F:
    """Message boundary: one bad message is logged, never kills the session;
    whatever the message changed is saved."""

    @functools.wraps(method)
    def wrapper(self: SessionBase, *args: Any) -> Any:
        try:
            return method(self, *args)
        except Exception:
            log.exception("session %s failed on %s", self.customer_id, method.__name__)
            return None
        finally:
            self._commit()

    return wrapper  # type: ignore[return-value]


class SessionBase(CallReceiver, GreenletActor):
    """A session's state and its means; the rules live in the subclasses."""

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
        self._newest_id = 0  # the highest id ever seen: a newer one cannot be a repeat
        self._timer: Cancellable | None = None
        self._timer_at = 0.0
        self._commit_retry: Cancellable | None = None
        # The inbox files what the bot missed for teaching (issue 24).
        self._bot = BotDialogue(deps.autoreply, deps.config.texts,
                                Inbox(TeachingStore.of(deps.store), deps.clock))
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

    def state(self) -> dict[str, Any]:
        return self.to_snapshot()

    @handler
    def retry_commit(self) -> None:
        """Storage was unreachable; try saving again (told by a timer)."""
        self._commit_retry = None

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
        self._newest_id = max(self._recent, default=0)
        self._opened = str(snapshot.get("opened", self._opened))

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
        self._recent.append(message.message_id)
        self._newest_id = max(self._newest_id, message.message_id)
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
