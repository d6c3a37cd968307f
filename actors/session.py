"""SessionActor: one customer's conversation, from the first message to its end.

Mode goes ``auto`` -> ``requesting`` (waiting for the pool) -> ``human`` ->
``closed``. The actor owns its mode, Shadow, servicer and idle timer, and
writes its snapshot and history once per message it handles.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import pykka

from actors.autoreply import AutoReply
from actors.call import CallReceiver, tell
from actors.clock import Cancellable, Clock
from actors.config import CsConfig
from actors.messages import Inbound, Outbound, Payload, Seat, Servicer, ShadowInfo, text_payload
from actors.pool import servicer_info

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
# Callbacks are not retried by the IM server, but proxies and replays can
# repeat one; the last ids seen are enough to catch a repeat in practice.
RECENT_IDS_KEPT = 64

AUTO, REQUESTING, HUMAN, CLOSED = "auto", "requesting", "human", "closed"

END_COMMANDS = frozenset({"/end", "结束"})

# While Redis is unreachable a session keeps its unsaved history in memory and
# retries every COMMIT_RETRY_SECS; past this many entries the oldest go (and
# the loss is logged), so a long outage cannot exhaust memory.
MAX_UNSAVED_HISTORY = 1000
COMMIT_RETRY_SECS = 1.0


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
        self._shadow: ShadowInfo | None = None
        self._servicer: Servicer | None = None
        self._deadline = 0.0
        self._recent: deque[int] = deque(maxlen=RECENT_IDS_KEPT)
        self._timer: Cancellable | None = None
        self._timer_at = 0.0
        self._pending_history: list[dict[str, Any]] = []
        self._pending_out: list[Outbound] = []
        self._handled: list[int] = []  # message ids to drop from the inbound journal
        # History of commits that failed, by commit number: a failure may hide a
        # commit that Redis applied (the reply was lost), so before writing it
        # again we check which commit the stored snapshot records.
        self._unsaved: list[tuple[int, list[dict[str, Any]]]] = []
        self._commit_retry: Cancellable | None = None
        self._seq = 0
        self._opened = f"{int(deps.clock.now() * 1000):013d}.{uuid.uuid4().hex[:8]}"
        self._dirty = snapshot is None
        if snapshot is not None:
            self._restore(snapshot)

    def on_start(self) -> None:
        if not self._deadline:
            self._touch()
        self._arm()

    # Messages from the Directory -----------------------------------------

    @_message
    def receive_customer_message(self, message: Inbound) -> None:
        """A message the customer sent to the CS Robot (runs in the session)."""
        if self._mode == CLOSED:
            self._deps.directory.route_customer.defer(message)  # to a new session
            return
        self._handle(message)
        if self._seen(message.message_id):
            return
        payload = message.payload
        types = self._config.content_types
        self._record("in", message.sender, payload)
        if payload.type == types.leave:
            self._close("left")
            return
        self._touch()
        if payload.type == types.enter:
            if self._mode != HUMAN:
                self._to_customer(text_payload(self._config.texts.welcome))
        elif payload.type == types.request_human:
            self._request_human()
        elif self._mode == HUMAN:
            self._to_servicer(payload)
        elif payload.text:
            result = self._deps.autoreply.reply(payload.text)
            if result.wants_human:
                self._request_human()
            else:
                self._to_customer(text_payload(result.answer))
        else:
            self._to_customer(text_payload(self._config.texts.fallback))

    @_message
    def receive_servicer_message(self, message: Inbound) -> None:
        """A message a servicer sent to this customer's Shadow (runs in the session)."""
        self._handle(message)
        if self._seen(message.message_id):
            return
        servicer = self._servicer
        if self._mode != HUMAN or servicer is None:
            if self._config.servicer(message.sender) is not None:
                self._say_as_shadow(message.target, message.sender,
                                    text_payload(self._config.texts.servicer_session_over))
            return
        if message.sender != servicer.id:
            log.warning("ignored message from %s to the shadow of %s, served by %s",
                        message.sender, self.customer_id, servicer.id)
            return
        if message.payload.text.strip().lower() in END_COMMANDS:
            self._record("in", message.sender, message.payload, servicer=servicer.id)
            self._close("servicer_ended")
            return
        self._touch()
        relayed = message.payload.with_extra({"cs": servicer_info(servicer)})
        self._to_customer(relayed, servicer=servicer.id)

    # Messages from the ServicerPool --------------------------------------

    @_message
    def seat_assigned(self, seat: Seat) -> None:
        """The pool gave this customer a servicer (runs in the session)."""
        if self._mode != REQUESTING:
            if self._servicer is None or self._servicer.id != seat.servicer.id:
                self._deps.pool.release_customer.defer(self.customer_id)
            return
        try:
            shadow = self._deps.ensure_shadow(self.customer_id)
        except ShadowError:
            log.exception("no shadow for %s", self.customer_id)
            self._deps.pool.release_customer.defer(self.customer_id)
            self._set_mode(AUTO)
            self._to_customer(text_payload(self._config.texts.shadow_failed))
            return
        self._deps.directory.shadow_bound.defer(shadow.shadow_id, self.customer_id)
        self._shadow, self._servicer = shadow, seat.servicer
        self._set_mode(HUMAN)
        texts = self._config.texts
        self._to_customer(text_payload(texts.seat_assigned.format(
            servicer_name=seat.servicer.name)))
        self._to_servicer(text_payload(texts.servicer_seat.format(
            customer_name=shadow.customer_name, customer_id=self.customer_id)))
        history = self._history_text()
        if history:
            self._to_servicer(text_payload(texts.servicer_history.format(history=history)))
        log.info("customer %s seated with %s", self.customer_id, seat.servicer.id)

    @_message
    def seat_unavailable(self, customer_id: str) -> None:
        """The pool had no free seat (runs in the session)."""
        if self._mode == REQUESTING:
            self._set_mode(AUTO)
            self._to_customer(text_payload(self._config.texts.no_servicer))

    # Timer and queries ---------------------------------------------------

    @_message
    def idle_expired(self) -> None:
        """The idle timer fired; a stale firing re-arms instead (runs in the session)."""
        self._timer = None
        if self._mode == CLOSED:
            return
        if self._deps.clock.now() >= self._deadline:
            self._close("idle")
        else:
            self._arm()

    @_message
    def retry_commit(self) -> None:
        """Storage was unreachable; try saving again (told by a timer)."""
        self._commit_retry = None

    def state(self) -> dict[str, Any]:
        return self.to_snapshot()

    def on_stop(self) -> None:
        if self._dirty or self._pending_history or self._handled or self._unsaved:
            self._commit()
        if self._commit_retry is not None:
            self._commit_retry.cancel()

    # Snapshot -------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        shadow, servicer = self._shadow, self._servicer
        return {
            "version": SNAPSHOT_VERSION,
            "customer": self.customer_id,
            "mode": self._mode,
            "shadow": list(shadow) if shadow else None,
            "servicer": list(servicer) if servicer else None,
            "deadline": self._deadline,
            "recent": list(self._recent),
            "seq": self._seq,
            "opened": self._opened,
        }

    def _restore(self, snapshot: dict[str, Any]) -> None:
        mode = snapshot.get("mode", AUTO)
        # The pool's answer to a request in flight is lost with the process:
        # a restored "requesting" session is back in auto mode.
        self._mode = AUTO if mode == REQUESTING else mode
        if snapshot.get("shadow"):
            self._shadow = ShadowInfo(*snapshot["shadow"])
        if snapshot.get("servicer"):
            self._servicer = Servicer(*snapshot["servicer"])
        self._deadline = float(snapshot.get("deadline", 0.0))
        self._recent.extend(snapshot.get("recent", []))
        self._seq = int(snapshot.get("seq", 0))
        self._opened = str(snapshot.get("opened", self._opened))

    # Internals -------------------------------------------------------------

    def _handle(self, message: Inbound) -> None:
        self._handled.append(message.message_id)

    def _seen(self, message_id: int) -> bool:
        if message_id in self._recent:
            log.info("duplicate message %s for %s ignored", message_id, self.customer_id)
            return True
        self._recent.append(message_id)
        self._dirty = True
        return False

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        self._dirty = True
        if mode in (AUTO, HUMAN):
            self._touch()

    def _request_human(self) -> None:
        if self._mode == HUMAN and self._servicer is not None:
            self._to_customer(text_payload(self._config.texts.already_human.format(
                servicer_name=self._servicer.name)))
        elif self._mode == AUTO:
            self._set_mode(REQUESTING)
            self._deps.pool.request_seat.defer(self.customer_id, self.actor_ref)

    def _touch(self) -> None:
        idle = (self._config.idle_human_secs if self._mode == HUMAN
                else self._config.idle_auto_secs)
        self._deadline = self._deps.clock.now() + idle
        self._dirty = True
        if self._timer is not None and self._timer_at > self._deadline:
            self._timer.cancel()
            self._timer = None
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None or self._mode == CLOSED:
            return
        self._timer_at = self._deadline
        self._timer = self._tell_self_later(
            self._deadline - self._deps.clock.now(), "idle_expired")

    def _tell_self_later(self, delay_secs: float, method: str) -> Cancellable:
        """A timer is a message to ourselves; a stopped session just ignores it."""

        ref = self.actor_ref

        def fire() -> None:
            tell(ref, method)

        return self._deps.clock.call_later(delay_secs, fire)

    def _close(self, reason: str) -> None:
        texts = self._config.texts
        if self._mode == HUMAN:
            notice = {"idle": texts.servicer_idle_end, "left": texts.servicer_customer_left,
                      "servicer_ended": texts.servicer_ended}[reason]
            self._to_servicer(text_payload(notice))
        if reason == "idle":
            self._to_customer(text_payload(texts.idle_end))
        elif reason == "servicer_ended":
            self._to_customer(text_payload(texts.servicer_end))
        self._deps.pool.release_customer.defer(self.customer_id)
        self._mode = CLOSED
        self._dirty = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deps.directory.session_closed.defer(self.customer_id, self.actor_ref)
        log.info("session %s closed (%s)", self.customer_id, reason)

    def _to_customer(self, payload: Payload, servicer: str | None = None) -> None:
        robot = self._deps.robot_id
        self._send(Outbound(robot, self.customer_id, payload, self.customer_id))
        self._record("out", robot, payload, servicer=servicer)

    def _to_servicer(self, payload: Payload) -> None:
        """Forward or notify as the Shadow; the history already holds what the customer said."""
        assert self._shadow is not None and self._servicer is not None
        self._say_as_shadow(self._shadow.shadow_id, self._servicer.id, payload)

    def _say_as_shadow(self, shadow_id: str, servicer_id: str, payload: Payload) -> None:
        self._send(Outbound(shadow_id, servicer_id, payload, self.customer_id))

    def _send(self, message: Outbound) -> None:
        """Queued until the commit journals it with the state change that made it."""
        self._pending_out.append(message)

    def _record(self, direction: str, sender: str, payload: Payload,
                servicer: str | None = None) -> None:
        entry: dict[str, Any] = {"t": int(self._deps.clock.now() * 1000), "dir": direction,
                                 "from": sender, "payload": payload.to_wire()}
        if servicer:
            entry["servicer"] = servicer
        self._pending_history.append(entry)

    def _history_text(self) -> str:
        limit = self._config.history_on_seat
        if limit <= 0:
            return ""
        try:
            entries = self._deps.store.history(self.customer_id, limit)
        except Exception:
            log.exception("history of %s not read", self.customer_id)
            return ""
        control = set(dataclasses.astuple(self._config.content_types))
        lines = []
        for e in entries:
            payload = e.get("payload", {})
            if payload.get("type") in control:
                continue
            text = payload.get("searchableContent") or f"[type {payload.get('type')}]"
            if e.get("dir") == "in":
                who = "客户" if e.get("from") == self.customer_id else "客服"
            else:
                who = "客服" if e.get("servicer") else "机器人"
            lines.append(f"{who}: {text}")
        return "\n".join(lines)

    def _commit(self) -> None:
        """Save snapshot, history and outbound messages, and drop handled journal
        entries, in one transaction; then hand the messages to the Outbox.

        If Redis is unreachable the messages still go out (the customer is
        answered), and the rest is kept and retried.
        """
        if not (self._dirty or self._pending_history or self._pending_out
                or self._handled or self._unsaved):
            return
        self._seq += 1
        history, self._pending_history = self._pending_history, []
        outbound, self._pending_out = self._pending_out, []
        handled, self._handled = self._handled, []
        tokens = [f"{self.customer_id}\x1f{self._opened}.{self._seq:010d}.{i:04d}"
                  for i in range(len(outbound))]
        snapshot = None if self._mode == CLOSED else self.to_snapshot()
        try:
            earlier = self._unsaved_history()
            self._deps.store.commit(
                self.customer_id, snapshot, earlier + history,
                [(t, m.to_record()) for t, m in zip(tokens, outbound, strict=True)], handled)
            self._dirty = False
            self._unsaved = []
        except Exception:
            log.exception("session %s not saved; retrying in %.0fs",
                          self.customer_id, COMMIT_RETRY_SECS)
            self._keep_unsaved(history, handled)
        try:
            for message, token in zip(outbound, tokens, strict=True):
                self._deps.outbox.send.defer(message, token)
        except pykka.ActorDeadError:
            log.warning("outbox stopped; session %s's messages wait in the journal",
                        self.customer_id)

    def _unsaved_history(self) -> list[dict[str, Any]]:
        """History of failed commits that Redis did not apply after all."""
        if not self._unsaved:
            return []
        stored = self._deps.store.load_session(self.customer_id)
        applied = int(stored.get("seq", 0)) if stored else 0
        return [e for seq, entries in self._unsaved if seq > applied for e in entries]

    def _keep_unsaved(self, history: list[dict[str, Any]], handled: list[int]) -> None:
        self._unsaved.append((self._seq, history))
        unsaved = sum(len(entries) for _, entries in self._unsaved)
        while unsaved > MAX_UNSAVED_HISTORY and len(self._unsaved) > 1:
            _, dropped = self._unsaved.pop(0)
            unsaved -= len(dropped)
            log.error("session %s dropped %d unsaved history entries",
                      self.customer_id, len(dropped))
        self._handled = handled + self._handled
        self._dirty = True
        if self._commit_retry is None and self._mode != CLOSED:
            self._commit_retry = self._tell_self_later(COMMIT_RETRY_SECS, "retry_commit")
