"""How a session speaks: to the customer as the CS Robot, to the servicer as the
Shadow, and into the customer's history. Everything goes to the Ledger,
which saves it and hands the messages to the Outbox at the end of the message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from actors.messages import Inbound, Outbound, Payload, text_payload
from actors.session.arrivals import Arrivals

if TYPE_CHECKING:
    from actors.clock import Clock
    from actors.durability.ledger import Ledger
    from actors.session.state import SessionState
    from storage import Store

log = logging.getLogger(__name__)

# What a notice tells the customer's app, in its ``extra`` as {"session": ...}:
# whom the customer talks to from now on. The texts are configurable, so an
# app (the /demo page) reads this, never the words.
BOT, LEAVING, WAITING, PERSON, ENDED = "bot", "leaving", "waiting", "person", "ended"


class Voice:
    __slots__ = ("_state", "_ledger", "_robot_id", "_clock", "_store", "last_t",
                 "_copy_servicer", "_copy_bot", "_arrivals")

    def __init__(self, state: SessionState, ledger: Ledger, robot_id: str, clock: Clock,
                 store: Store, last_t: int = -1, copy_servicer: str = "{text}",
                 copy_bot: str = "{text}") -> None:
        self._state = state
        self._copy_servicer = copy_servicer  # how a watching supervisor sees each side
        self._copy_bot = copy_bot
        self._ledger = ledger
        self._robot_id = robot_id
        self._clock = clock
        self._store = store
        self.last_t = last_t  # time (ms) of the last history entry; -1: not read yet
        self._arrivals: Arrivals | None = None  # made at the first inbound message

    def to_customer(self, payload: Payload, servicer: str | None = None,
                    servicer_name: str = "") -> None:
        customer = self._state.customer_id
        self._ledger.send(Outbound(self._robot_id, customer, payload, customer))
        self.record("out", self._robot_id, payload, servicer=servicer)
        if self._state.monitors:
            self.copy_to_monitors(self._copy_servicer if servicer else self._copy_bot, payload,
                                  servicer_name or servicer or "")

    def notify(self, text: str, session: str) -> None:
        """A notice to the customer that says, in ``extra``, what the session became."""
        self.to_customer(tagged(text_payload(text), session))

    def copy_to_monitors(self, template: str, payload: Payload, name: str = "") -> None:
        """What was said, marked who said it, to every supervisor watching (as the
        Shadow, kept in their history like a relayed message)."""
        state = self._state
        if state.shadow is None:
            return
        said = payload.text or f"[type {payload.type}]"
        for supervisor in state.monitors:
            self._ledger.send(Outbound(
                state.shadow.shadow_id, supervisor,
                text_payload(template.format(text=said, name=name), payload.persistFlag),
                state.customer_id))

    def to_servicer(self, payload: Payload) -> None:
        """Forward or notify as the Shadow; the history already holds what the customer said."""
        state = self._state
        assert state.shadow is not None and state.servicer is not None
        self.as_shadow(state.shadow.shadow_id, state.servicer.id, payload)

    def as_shadow(self, shadow_id: str, servicer_id: str, payload: Payload) -> None:
        self._ledger.send(Outbound(shadow_id, servicer_id, payload, self._state.customer_id))

    def heard(self, message: Inbound, servicer: str | None = None,
              dropped: bool = False) -> None:
        """Record what the customer or a servicer sent, with the IM server's number."""
        self.record("in", message.sender, message.payload, servicer, dropped, message.message_id)

    def record(self, direction: str, sender: str, payload: Payload,
               servicer: str | None = None, dropped: bool = False, message_id: int = 0) -> None:
        # Strictly increasing per customer, so "t" can serve as a paging cursor.
        if self.last_t < 0:
            self.last_t = self._stored_last_t()
        self.last_t = max(int(self._clock.now() * 1000), self.last_t + 1)
        entry: dict[str, Any] = {"t": self.last_t, "dir": direction,
                                 "from": sender, "payload": payload.to_wire()}
        if servicer:
            entry["servicer"] = servicer
        if dropped:
            entry["dropped"] = True
        if message_id > 0:  # the IM server's number (the console's own are below 0)
            entry["mid"] = message_id
            if self._arrivals is None:
                self._arrivals = Arrivals()
            ahead_of = self._arrivals.place(message_id, self.last_t)
            if ahead_of is not None:
                entry["ahead_of"] = ahead_of
        self._ledger.record(entry)

    def _stored_last_t(self) -> int:
        """The newest entry's time in the stored history: a new entry must come
        after it (the console pages with "after the newest t it has"), even if
        the wall clock stepped back since, or this is a new session."""
        customer = self._state.customer_id
        try:
            last = self._store.history(customer, 1)
        except Exception:
            log.warning("history of %s not read; its times follow the clock", customer)
            return 0
        t = last[0].get("t", 0) if last else 0
        return t if isinstance(t, int) and not isinstance(t, bool) else 0


def tagged(payload: Payload, session: str) -> Payload:
    """``payload`` with ``{"session": session}`` in its ``extra`` (see BOT ... ENDED)."""
    return payload.with_extra({"session": session})
