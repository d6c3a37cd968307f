"""Accepting a callback: journal it, drop repeats, then tell its actor.

The IM server posts each callback once and never retries, so a callback we
answer 200 must survive a crash: it is journaled in Redis before the
answer. If Redis is unreachable the callback is still accepted and handled
(customers keep being answered), but it lives in memory only until then,
and the storage is reported degraded.

A customer's message goes straight to the customer's open session; the
Directory routes everything else (first messages, status commands, Shadow
chats) and starts sessions (see actors/directory.py for why order holds).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from actors.call import tell
from actors.commands import status_command
from actors.messages import Inbound
from storage import StorageError, Store

log = logging.getLogger(__name__)

ROUTES_TIMEOUT_SECS = 10.0  # the Directory answers at once unless it is restoring


class Intake:
    """Owned by the HTTP layer; greenlet-only (no blocking between reads and writes)."""

    def __init__(self, store: Store, directory: Any) -> None:
        self._store = store
        self._directory = directory.actor_ref  # told directly: the hot path
        self._sessions = directory.routes().get(timeout=ROUTES_TIMEOUT_SECS)
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
        if not for_robot:
            tell(self._directory, "route_shadow", message)
        elif not self._tell_session(message):
            tell(self._directory, "route_customer", message)
        return True

    def _tell_session(self, message: Inbound) -> bool:
        """Tell the sender's open session; False if the Directory must route it
        (no session, a status command, or the session has just stopped)."""
        session = self._sessions.get(message.sender)
        return (session is not None and status_command(message.payload.text) is None
                and tell(session, "receive_customer_message", message))
