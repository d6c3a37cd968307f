"""The Directory: which actor serves which customer, and which Shadow is whose.

Pykka's own ActorRegistry is a list (O(n) look-ups and removals), so the
Directory keeps a dict. It is the only actor that starts or stops sessions,
which makes the hand-over at close safe: a message routed to a session that
has just closed is sent back here and starts a new session.

The HTTP intake keeps a copy of the routes, changed only by the updates
this actor publishes (actors/routes.py says why, and why order holds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pykka

from actors.call import Address, Receiver, hand, tell
from actors.commands import MonitorCommand, duty_command, monitor_command
from actors.config import CsConfig
from actors.mailbox import GreenletActor
from actors.messages import (
    CustomerMessage,
    Inbound,
    Monitor,
    Outbound,
    PoolRestarted,
    ServicerMessage,
    text_payload,
)
from actors.pool import ServicerPool
from actors.routes import (
    RoutesReset,
    RouteUpdate,
    ServicersChanged,
    SessionGone,
    SessionOpened,
    ShadowBound,
)
from actors.supervision import Mortal
from storage.supervisors import SupervisorStore

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)


SessionFactory = Callable[[str, "dict[str, Any] | None"], pykka.ActorRef[Any]]
"""(customer id, stored snapshot or None) -> a started SessionActor.

Raises ValueError (SnapshotError) for a snapshot it cannot read."""


class Directory(Mortal, Receiver, GreenletActor):
    """Routes callbacks to sessions and the pool; owns the customer->actor map."""

    use_daemon_thread = True

    def __init__(self, config: CsConfig, *, robot_id: str, start_session: SessionFactory,
                 pool: Address, outbox: Outbox, store: Store,
                 on_death: Callable[[], None] | None = None) -> None:
        super().__init__(on_death=on_death)
        self._config = config
        self._robot_id = robot_id
        self._start_session = start_session
        self._pool = pool
        self._outbox = outbox
        self._store = store
        self._sessions: dict[str, pykka.ActorRef[Any]] = {}  # customer id -> SessionActor
        self._shadows: dict[str, str] = {}  # shadow id -> customer id
        self._servicer_ids = frozenset(s.id for s in config.servicers)
        self._readers: list[Callable[[RouteUpdate], None]] = []  # told of every change
        self._supervisors = frozenset(config.supervisors)

    def describe(self) -> str:
        return "the directory"

    def on_start(self) -> None:
        try:
            self._shadows.update(self._store.load_shadows())
        except Exception:
            log.exception("shadow map not loaded; shadows resolve by pattern only")
        try:
            self._supervisors |= SupervisorStore.of(self._store).ids()
        except Exception:
            log.exception("supervisors added through the API not read; the configured ones "
                          "stand")

    def supervisors_changed(self, supervisors: frozenset[str]) -> None:
        """Who may watch conversations now (told by the API)."""
        self._supervisors = frozenset(self._config.supervisors) | supervisors

    def restore_sessions(self) -> int:
        """Start an actor for every open session in storage (runs in the directory).

        Returns:
            how many sessions were restored.
        """
        restored = 0
        for customer_id, data in self._store.load_open_sessions():
            if customer_id in self._sessions:
                continue
            try:
                self._start(customer_id, data)
            except ValueError as exc:
                log.error("session snapshot of %s unreadable (%s); set aside", customer_id,
                          exc)
                self._set_aside_session(customer_id, data, str(exc))
                continue
            except Exception:
                log.exception("session %s did not start from its snapshot; set aside",
                              customer_id)
                self._set_aside_session(customer_id, data, "did not start")
                continue
            restored += 1
        log.info("restored %d open sessions", restored)
        return restored

    def _set_aside_session(self, customer_id: str, data: Any, reason: str) -> None:
        try:
            self._store.set_aside(self._store.keys.session(customer_id), None, data, reason)
        except Exception:
            log.exception("session snapshot of %s not set aside", customer_id)

    def route_customer(self, message: Inbound) -> None:
        """A callback to the CS Robot: a customer's message or a servicer's command."""
        monitor = monitor_command(message.payload.text)
        if monitor is not None:
            self._monitor(message.sender, monitor)
            self._handled_here(message)
            return
        servicer = message.sender in self._servicer_ids
        status = duty_command(message.payload.text, servicer)
        if status is not None:
            # The pool refuses anyone who is not a servicer, and says so.
            tell(self._pool, ServicerPool.set_status, message.sender, status)
            self._handled_here(message)
            return
        if servicer:
            self._say(message.sender, self._config.texts.servicer_help)
            self._handled_here(message)
            return
        customer_id = message.sender
        session = self._sessions.get(customer_id)
        if session is None:
            if message.payload.type == self._config.content_types.leave:
                self._handled_here(message)  # nothing to close
                return
            session = self._start(customer_id, None)
        if not hand(session, CustomerMessage(message)):
            self._forget(customer_id, session)
            hand(self._start(customer_id, None), CustomerMessage(message))

    def route_shadow(self, message: Inbound) -> None:
        """A callback to a Shadow: a servicer writing to a customer."""
        shadow_id = message.target
        # The map first; the pattern when the map could not be read at start
        # (a restored session does not bind its Shadow again).
        customer_id = self._shadows.get(shadow_id) or self._config.customer_of_shadow(shadow_id)
        session = self._sessions.get(customer_id) if customer_id else None
        if session is None:
            if message.sender in self._servicer_ids:
                self._outbox.send(Outbound(
                    shadow_id, message.sender,
                    text_payload(self._config.texts.servicer_session_over), shadow_id))
            self._handled_here(message)
            return
        if not hand(session, ServicerMessage(message)):
            self._forget(customer_id or "", session)
            self._handled_here(message)

    def _monitor(self, sender: str, command: MonitorCommand) -> None:
        """/monitor <customer>, /unmonitor <customer>, or /monitor alone (a list)."""
        texts = self._config.texts
        if sender not in self._supervisors:
            self._say(sender, texts.monitor_refused)
            return
        if not command.customer_id:
            self._say(sender, texts.monitor_list.format(
                customers=", ".join(sorted(self._sessions)) or "-"))
            return
        session = self._sessions.get(command.customer_id)
        if session is None or not hand(session, Monitor(sender, command.watch)):
            self._say(sender, texts.monitor_no_session.format(customer_id=command.customer_id))

    def replay_inbound(self) -> int:
        """Route every callback accepted before a restart but not handled (runs here).

        Returns:
            how many were replayed.
        """
        replayed = 0
        for message_id, record in self._store.pending_inbound():
            try:
                message = Inbound.from_record(record)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                log.error("inbound journal entry %s unreadable (%s); set aside", message_id,
                          exc)
                try:
                    self._store.set_aside(self._store.keys.inbound, str(message_id), record,
                                          str(exc))
                except Exception:
                    log.exception("inbound journal entry %s not set aside", message_id)
                continue
            if message.target == self._robot_id:
                self.route_customer(message)
            else:
                self.route_shadow(message)
            replayed += 1
        if replayed:
            log.info("replayed %d callbacks accepted before the restart", replayed)
        return replayed

    def servicers_changed(self, servicer_ids: frozenset[str]) -> None:
        """The pool's servicers changed (told on the pool's behalf)."""
        self._servicer_ids = servicer_ids
        self._publish(ServicersChanged(servicer_ids))

    def reconcile_pool(self) -> None:
        """Have the pool free the seats and places of customers with no open
        session (after a restart, or a restore from storage)."""
        tell(self._pool, ServicerPool.reconcile, frozenset(self._sessions))

    def pool_restarted(self) -> None:
        """The pool was restarted from its snapshot (told by its supervisor): it
        frees what closed sessions held, and every open session attaches again."""
        self.reconcile_pool()
        notice = PoolRestarted()
        for session in self._sessions.values():
            hand(session, notice)

    def shadow_bound(self, shadow_id: str, customer_id: str) -> None:
        """A session got its Shadow (told by the session)."""
        if self._shadows.get(shadow_id) == customer_id:
            return
        try:
            self._store.save_shadow(shadow_id, customer_id)
        except Exception:
            log.exception("shadow %s not saved", shadow_id)
        # Shown to the intake only now, after the save's wait: a servicer's
        # message queued here meanwhile must reach the session before any
        # the intake tells it directly.
        self._shadows[shadow_id] = customer_id
        self._publish(ShadowBound(shadow_id, customer_id))

    def session_closed(self, customer_id: str, ref: pykka.ActorRef[Any]) -> None:
        """A session ended (told by the session): forget and stop it."""
        self._forget(customer_id, ref)
        ref.stop(block=False)

    def watch_routes(self, reader: Callable[[RouteUpdate], None]) -> None:
        """Tell ``reader`` the routes now, then every change, in order (asked by
        the intake; ``reader`` runs inside this actor and must not block)."""
        self._readers.append(reader)
        reader(RoutesReset(tuple(self._sessions.items()), tuple(self._shadows.items()),
                           self._servicer_ids))

    def open_sessions(self) -> list[str]:
        return sorted(self._sessions)

    def session_count(self) -> int:
        return len(self._sessions)

    def session(self, customer_id: str) -> pykka.ActorRef[Any] | None:
        """The session's actor ref, or None (for tests and the API)."""
        return self._sessions.get(customer_id)

    def stop_sessions(self, timeout_secs: float = 10.0) -> None:
        """Stop every session after it has handled what it was told (runs here).

        Sessions only tell the Directory, never ask it, so waiting here
        cannot deadlock.
        """
        futures = [ref.stop(block=False) for ref in self._sessions.values()]
        self._sessions.clear()
        self._publish(RoutesReset((), tuple(self._shadows.items()), self._servicer_ids))
        for future in futures:
            try:
                future.get(timeout=timeout_secs)
            except Exception:
                log.warning("a session did not stop in time")

    def _start(self, customer_id: str,
               snapshot: dict[str, Any] | None) -> pykka.ActorRef[Any]:
        ref = self._start_session(customer_id, snapshot)
        self._sessions[customer_id] = ref
        self._publish(SessionOpened(customer_id, ref))
        return ref

    def _forget(self, customer_id: str, ref: pykka.ActorRef[Any]) -> None:
        if self._sessions.get(customer_id) is ref:
            del self._sessions[customer_id]
            self._publish(SessionGone(customer_id, ref))

    def _publish(self, update: RouteUpdate) -> None:
        for reader in self._readers:
            reader(update)

    def _handled_here(self, message: Inbound) -> None:
        """The message needs no session: drop its journal entry now."""
        try:
            self._store.forget_inbound([message.message_id])
        except Exception:
            log.warning("journal entry %s not dropped; it may be replayed once",
                        message.message_id)

    def _say(self, user_id: str, text: str) -> None:
        self._outbox.send(Outbound(self._robot_id, user_id, text_payload(text), user_id))

