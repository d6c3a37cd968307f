"""Accepting a callback: journal it, drop repeats, then tell its actor.

The IM server posts each callback once and never retries, so a callback we
answer 200 must survive a crash: it is journaled in Redis before the
answer. If Redis is unreachable the callback is still accepted and handled
(customers keep being answered), but it lives in memory only until then,
and the storage is reported degraded.

A message for an open session goes straight to it, whether the customer
wrote to the CS Robot or a servicer to the customer's Shadow; the Directory
routes the rest (first messages, status commands, Shadows without a
session) and starts sessions (actors/directory.py says why order holds).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pykka

from actors.call import ask, hand, tell
from actors.commands import duty_command, monitor_command
from actors.directory import Directory
from actors.messages import CustomerMessage, Inbound, ServicerMessage
from actors.routes import RouteTable
from storage import StorageError, Store

log = logging.getLogger(__name__)

ROUTES_TIMEOUT_SECS = 10.0  # the Directory answers at once unless it is restoring


class Intake:
    """Owned by the HTTP layer; greenlet-only (no blocking between reads and writes)."""

    def __init__(self, store: Store, directory: Any) -> None:
        self._store = store
        self._directory = directory  # a supervised handle: it may be restarted
        self._routes = RouteTable()  # changed only by the Directory's updates
        ask(directory, Directory.watch_routes, self._routes.apply).get(
            timeout=ROUTES_TIMEOUT_SECS)
        directory.on_restart.append(self._directory_restarted)
        self.degraded_since: float | None = None
        self.duplicates = 0
        self.unjournaled = 0

    def storage_failed(self, exc: Exception) -> None:
        if self.degraded_since is None:
            self.degraded_since = time.time()
            log.error("storage degraded: callbacks are accepted in memory only (%s)",
                      exc.__class__.__name__)

    def storage_is_back(self) -> None:
        if self.degraded_since is not None:
            log.warning("storage back after %.1fs", time.time() - self.degraded_since)
            self.degraded_since = None

    def accept(self, message: Inbound, for_robot: bool) -> bool:
        """Journal and route one callback.

        Returns:
            False if it repeats a messageId seen recently (then nothing is done).
        """
        try:
            first_time = self._store.accept_inbound(message.message_id, message.to_record())
        except StorageError as exc:
            self.storage_failed(exc)
            self.unjournaled += 1
        else:
            self.storage_is_back()
            if not first_time:
                self.duplicates += 1
                log.info("repeated callback %s ignored", message.message_id)
                return False
        if for_robot:
            if not _hand(self._customer_session(message), CustomerMessage(message)):
                self._route(Directory.route_customer, message)
        elif not _hand(self._shadow_session(message), ServicerMessage(message)):
            self._route(Directory.route_shadow, message)
        return True

    def _route(self, method: Any, message: Inbound) -> None:
        if not tell(self._directory, method, message):
            # The Directory is being restarted; its successor replays the journal.
            log.warning("directory down: callback %s waits in the journal", message.message_id)

    def _directory_restarted(self, directory: pykka.ActorRef[Directory]) -> None:
        ask(directory, Directory.watch_routes, self._routes.apply).get(
            timeout=ROUTES_TIMEOUT_SECS)

    def _customer_session(self, message: Inbound) -> Any:
        """The sender's open session, unless a servicer writes a status command
        (which the Directory hands to the pool). A customer who writes "离开"
        is a customer."""
        text = message.payload.text
        if duty_command(text, message.sender in self._routes.servicers) is not None \
                or monitor_command(text) is not None:
            return None
        return self._routes.sessions.get(message.sender)

    def _shadow_session(self, message: Inbound) -> Any:
        customer_id = self._routes.shadows.get(message.target)
        return self._routes.sessions.get(customer_id) if customer_id else None


def _hand(session: Any, message: Any) -> bool:
    """False when the Directory must route it: no session, or it has just stopped."""
    return session is not None and hand(session, message)
