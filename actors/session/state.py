"""What a session knows: its mode, its people, its deadline, the ids it has handled.

Owned by one SessionActor and shared by reference with the helpers it is
composed of (its seat rules, its voice); plain data and the checks on it,
no I/O. ``snapshot``/``restore`` convert to and from the stored form, which
carries wall time where this keeps monotonic time.
"""

from __future__ import annotations

from actors.config import CsConfig
from actors.messages import Servicer, ShadowInfo
from actors.session.snapshot import RECENT_IDS_KEPT, SessionSnapshot

AUTO, REQUESTING, QUEUED, HUMAN, RATING, CLOSED = (
    "auto", "requesting", "queued", "human", "rating", "closed")
LEAVING = "leaving"  # nobody on duty: the customer's next words are a message left
WAITING = (REQUESTING, QUEUED)


class SessionState:
    # One per open session: slots keep an idle one small.
    __slots__ = ("customer_id", "mode", "group", "priority", "shadow", "servicer",
                 "last_servicer", "served_by", "stars", "seated_mono", "replied",
                 "deadline_mono", "recent", "newest_id", "opened", "left_message", "ticket",
                 "monitors")

    def __init__(self, customer_id: str, opened: str) -> None:
        self.customer_id = customer_id
        self.mode = AUTO
        self.group = ""
        self.priority = 0
        self.shadow: ShadowInfo | None = None
        self.servicer: Servicer | None = None
        self.last_servicer: Servicer | None = None  # who the rating is for
        self.served_by: list[str] = []  # every servicer of this session, in order
        self.stars: int | None = None  # the customer's rating, once given
        self.seated_mono = 0.0  # monotonic time of the last seat
        self.replied = False  # the seated servicer has written since
        self.deadline_mono = 0.0  # the idle deadline, on the monotonic clock
        self.recent: list[int] = []  # a list: most sessions see a handful of ids
        self.newest_id = 0  # the highest id ever seen: a newer one cannot be a repeat
        self.opened = opened
        self.left_message = False  # waiting with a message left while nobody was on duty
        self.ticket = 0  # the number of its latest request for a person
        self.monitors: tuple[str, ...] = ()  # supervisors watching the conversation

    @property
    def session_id(self) -> str:
        return f"{self.customer_id}:{self.opened}"

    def idle_secs(self, config: CsConfig) -> float:
        """How long this session may stay silent in its mode."""
        if self.mode == HUMAN:
            return config.idle_human_secs
        if self.mode == RATING:
            return config.rating_window_secs
        if self.mode in WAITING:
            # The queue's wait rule governs a waiting customer (the pool ends
            # the wait); this only catches a pool that never answers.
            wait = config.message_max_wait_secs if self.left_message else config.queue_max_wait_secs
            return wait + config.idle_auto_secs
        return config.idle_auto_secs

    @property
    def with_person(self) -> bool:
        return self.mode == HUMAN and self.servicer is not None

    def seen_before(self, message_id: int) -> bool:
        """Whether this id was handled already; if not, it is now remembered."""
        # The IM server's ids grow with time, so a new message's id is nearly
        # always above all we kept; scanning them (1% of the server's CPU under
        # load, py-spy) is left for ids that might repeat.
        if message_id <= self.newest_id and message_id in self.recent:
            return True
        self.remember(message_id)
        return False

    def remember(self, message_id: int) -> None:
        if message_id in self.recent:
            return
        self.recent.append(message_id)
        self.newest_id = max(self.newest_id, message_id)
        if len(self.recent) > RECENT_IDS_KEPT:
            del self.recent[0]

    def forget(self, message_id: int) -> None:
        """Not handled after all (an external bot still thinks): a replay is new."""
        if message_id in self.recent:
            self.recent.remove(message_id)

    def snapshot(self, seq: int, last_t: int, wall_offset: float) -> SessionSnapshot:
        """``wall_offset``: wall time minus monotonic time, now."""
        return SessionSnapshot(
            customer=self.customer_id, mode=self.mode, group=self.group,
            priority=self.priority, shadow=self.shadow, servicer=self.servicer,
            last_servicer=self.last_servicer, served_by=tuple(self.served_by),
            seated_at=self.seated_mono + wall_offset if self.seated_mono else 0.0,
            replied=self.replied, deadline=self.deadline_mono + wall_offset,
            recent=tuple(self.recent), seq=seq, opened=self.opened, last_t=last_t,
            left_message=self.left_message, ticket=self.ticket, monitors=self.monitors)

    def restore(self, snapshot: SessionSnapshot, wall_offset: float) -> None:
        self.mode = snapshot.mode
        self.group = snapshot.group
        self.priority = snapshot.priority
        self.shadow = snapshot.shadow
        self.servicer = snapshot.servicer
        self.last_servicer = snapshot.last_servicer
        self.served_by = list(snapshot.served_by)
        self.seated_mono = snapshot.seated_at - wall_offset if snapshot.seated_at else 0.0
        self.replied = snapshot.replied
        self.deadline_mono = snapshot.deadline - wall_offset if snapshot.deadline else 0.0
        self.recent = list(snapshot.recent)
        self.newest_id = max(self.recent, default=0)
        self.opened = snapshot.opened or self.opened
        self.left_message = snapshot.left_message
        self.ticket = snapshot.ticket
        self.monitors = snapshot.monitors
