"""The ServicerPool: who is on duty, how loaded, and who gets the next customer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pykka

from actors.call import tell
from actors.clock import Clock
from actors.config import CsConfig
from actors.messages import Outbound, Seat, Servicer, text_payload

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

POOL_SNAPSHOT_VERSION = 1
SAVE_RETRY_SECS = 1.0


class ServicerPool(pykka.ThreadingActor):
    """Owns duty status and seats; allocates to the least-loaded servicer on duty."""

    use_daemon_thread = True

    def __init__(self, config: CsConfig, *, robot_id: str, outbox: Any,
                 store: Store | None = None, clock: Clock | None = None) -> None:
        super().__init__()
        self._clock = clock
        self._save_retry = False
        self._config = config
        self._robot_id = robot_id
        self._outbox = outbox
        self._store = store
        self._servicers = {s.id: s for s in config.servicers}
        self._on_duty: set[str] = set()
        self._seats: dict[str, set[str]] = {s.id: set() for s in config.servicers}
        self._seat_of: dict[str, str] = {}  # customer id -> servicer id

    def on_start(self) -> None:
        self._self = self.actor_ref.proxy()
        if self._store is None:
            return
        try:
            snapshot = self._store.load_pool()
        except Exception:
            log.exception("pool snapshot unreadable; starting with everyone off duty")
            return
        if snapshot:
            self._restore(snapshot)

    def _restore(self, snapshot: dict[str, Any]) -> None:
        self._on_duty = {s for s in snapshot.get("on_duty", []) if s in self._servicers}
        for customer_id, servicer_id in snapshot.get("seats", {}).items():
            if servicer_id in self._servicers:
                self._seats[servicer_id].add(customer_id)
                self._seat_of[customer_id] = servicer_id

    def to_snapshot(self) -> dict[str, Any]:
        return {"version": POOL_SNAPSHOT_VERSION, "on_duty": sorted(self._on_duty),
                "seats": dict(self._seat_of)}

    def _save(self) -> None:
        if self._store is None:
            return
        try:
            self._store.save_pool(self.to_snapshot())
        except Exception:
            log.exception("pool snapshot not saved; retrying in %.0fs", SAVE_RETRY_SECS)
            if not self._save_retry and self._clock is not None:
                self._save_retry = True
                self._clock.call_later(SAVE_RETRY_SECS, self._self.save_due.defer)

    def save_due(self) -> None:
        """Internal: retry a snapshot that storage refused (told by a timer)."""
        self._save_retry = False
        self._save()

    def set_duty(self, servicer_id: str, on_duty: bool) -> bool:
        """Put a servicer on or off duty and tell them (runs in the pool).

        Off duty stops new seats; open sessions stay with the servicer.

        Returns:
            False if ``servicer_id`` is not a configured servicer (refused).
        """
        servicer = self._servicers.get(servicer_id)
        texts = self._config.texts
        if servicer is None:
            self._say(servicer_id, texts.duty_refused)
            log.warning("duty change refused for unknown servicer %s", servicer_id)
            return False
        if on_duty:
            self._on_duty.add(servicer_id)
            self._say(servicer_id, texts.duty_on.format(
                load=len(self._seats[servicer_id]), capacity=servicer.capacity))
        else:
            self._on_duty.discard(servicer_id)
            self._say(servicer_id, texts.duty_off)
        log.info("servicer %s %s duty", servicer_id, "on" if on_duty else "off")
        self._save()
        return True

    def request_seat(self, customer_id: str, session: Any) -> None:
        """Find a servicer for a customer; answers the session by telling it.

        Args:
            customer_id: the customer asking for a person.
            session: ref of the SessionActor, told ``seat_assigned(Seat)`` or
                ``seat_unavailable(customer_id)``.
        """
        servicer_id = self._seat_of.get(customer_id) or self._least_loaded()
        if servicer_id is None:
            tell(session, "seat_unavailable", customer_id)
            return
        self._seats[servicer_id].add(customer_id)
        self._seat_of[customer_id] = servicer_id
        self._save()
        if not tell(session, "seat_assigned", Seat(customer_id, self._servicers[servicer_id])):
            self.release_customer(customer_id)

    def release_customer(self, customer_id: str) -> None:
        """Free the customer's seat, if any (idempotent; runs in the pool)."""
        servicer_id = self._seat_of.pop(customer_id, None)
        if servicer_id is not None:
            self._seats[servicer_id].discard(customer_id)
            self._save()

    def status(self) -> dict[str, Any]:
        return {s.id: {"name": s.name, "capacity": s.capacity,
                       "on_duty": s.id in self._on_duty,
                       "load": len(self._seats[s.id])}
                for s in self._servicers.values()}

    def _least_loaded(self) -> str | None:
        best: tuple[float, str] | None = None
        for servicer_id in self._on_duty:
            load = len(self._seats[servicer_id])
            capacity = self._servicers[servicer_id].capacity
            if load >= capacity:
                continue
            rank = (load / capacity, servicer_id)
            if best is None or rank < best:
                best = rank
        return None if best is None else best[1]

    def _say(self, servicer_id: str, text: str) -> None:
        self._outbox.send.defer(Outbound(self._robot_id, servicer_id,
                                         text_payload(text), servicer_id))


def servicer_info(servicer: Servicer) -> dict[str, str]:
    """The servicer fields a relayed message carries in its ``extra``."""
    return {"servicerId": servicer.id, "name": servicer.name, "portrait": servicer.portrait}
