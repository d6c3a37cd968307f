"""What a session changed since its last save, and the save itself.

A session hands every history entry, outbound message, handled callback and
statistic to its Ledger; at the end of each message the Ledger writes them
in one Redis transaction and then gives the messages to the Outbox. Kept
apart from the SessionActor so that the actor reads as customer-service
rules and this file as durability rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from actors.messages import Outbound

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

# While Redis is unreachable a session keeps its unsaved history in memory and
# retries; past this many entries the oldest go (and the loss is logged), so
# a long outage cannot exhaust memory.
MAX_UNSAVED_HISTORY = 1000
# The other lists it keeps for the next commit are capped for the same
# reason (the oldest go, logged). Handled ids left out replay after a restart
# (the session's recent ids catch repeats); the rest are statistics.
MAX_UNSAVED_HANDLED = 5000
MAX_UNSAVED_STATS = 1000
MAX_UNSAVED_RATINGS = 100
MAX_UNSAVED_ANSWER_STATS = 1000
MAX_UNSAVED_ENDED = 100

T = TypeVar("T")


class Ledger:
    """Owned by one SessionActor; never shared."""

    # One per open session: slots keep an idle one small.
    __slots__ = ("_customer_id", "_store", "_outbox", "_opened", "seq", "dirty", "_history",
                 "_outbound", "_handled", "_stats", "_ratings", "_answer_stats", "_ended",
                 "_unsaved")

    def __init__(self, customer_id: str, store: Store, outbox: Outbox, opened: str) -> None:
        self._customer_id = customer_id
        self._store = store
        self._outbox = outbox
        self._opened = opened
        self.seq = 0
        self.dirty = False
        self._history: list[dict[str, Any]] = []
        self._outbound: list[Outbound] = []
        self._handled: list[int] = []  # message ids to drop from the inbound journal
        self._stats: list[tuple[str, str, int]] = []  # (servicer, field, increment)
        self._ratings: list[dict[str, Any]] = []
        self._answer_stats: list[tuple[str, str]] = []  # (entry id, counter)
        self._ended: list[dict[str, Any]] = []
        # History of commits that failed, by commit number: a failure may hide
        # a commit that Redis applied (its reply was lost), so before writing
        # it again we check which commit the stored snapshot records.
        self._unsaved: list[tuple[int, list[dict[str, Any]]]] = []

    def record(self, entry: dict[str, Any]) -> None:
        self._history.append(entry)

    def send(self, message: Outbound) -> None:
        self._outbound.append(message)

    def handled(self, message_id: int) -> None:
        self._handled.append(message_id)

    def unhandled(self, message_id: int) -> None:
        """Keep this message's journal entry after all (it is not dealt with yet)."""
        if message_id in self._handled:
            self._handled.remove(message_id)

    def count(self, servicer_id: str, field: str, increment: int = 1) -> None:
        self._stats.append((servicer_id, field, increment))

    def rate(self, rating: dict[str, Any]) -> None:
        self._ratings.append(rating)

    def count_answer(self, entry_id: str, counter: str) -> None:
        self._answer_stats.append((entry_id, counter))

    def ended(self, summary: dict[str, Any]) -> None:
        self._ended.append(summary)

    @property
    def pending(self) -> bool:
        return bool(self.dirty or self._history or self._outbound or self._handled
                    or self._unsaved or self._stats or self._ratings or self._answer_stats
                    or self._ended)

    def commit(self, snapshot: Callable[[], dict[str, Any] | None]) -> bool:
        """Save everything pending, then hand the messages to the Outbox.

        If Redis is unreachable the messages still go out (the customer is
        answered) and the rest is kept for the next commit.

        Returns:
            False if storage failed (the caller retries later).
        """
        if not self.pending:
            return True
        self.seq += 1
        history, self._history = self._history, []
        outbound, self._outbound = self._outbound, []
        handled, self._handled = self._handled, []
        stats, self._stats = self._stats, []
        ratings, self._ratings = self._ratings, []
        answer_stats, self._answer_stats = self._answer_stats, []
        ended, self._ended = self._ended, []
        tokens = [f"{self._customer_id}\x1f{self._opened}.{self.seq:010d}.{i:04d}"
                  for i in range(len(outbound))]
        saved = True
        try:
            self._store.commit(
                self._customer_id, snapshot(), self._unsaved_history() + history,
                [(t, m.to_record()) for t, m in zip(tokens, outbound, strict=True)], handled,
                stats=stats, ratings=ratings, answer_stats=answer_stats, ended=ended)
            self.dirty = False
            self._unsaved = []
        except Exception:
            log.exception("session %s not saved", self._customer_id)
            saved = False
            self._keep(history, handled, stats, ratings)
            self._answer_stats = self._capped("answer counts", answer_stats + self._answer_stats,
                                              MAX_UNSAVED_ANSWER_STATS)
            self._ended = self._capped("ended summaries", ended + self._ended,
                                       MAX_UNSAVED_ENDED)
        for message, token in zip(outbound, tokens, strict=True):
            if not self._outbox.send(message, token):
                log.warning("outbox stopped; session %s's messages wait in the journal",
                            self._customer_id)
                break
        return saved

    def _unsaved_history(self) -> list[dict[str, Any]]:
        """History of failed commits that Redis did not apply after all."""
        if not self._unsaved:
            return []
        stored = self._store.load_session(self._customer_id)
        applied = int(stored.get("seq", 0)) if stored else 0
        return [e for seq, entries in self._unsaved if seq > applied for e in entries]

    def _keep(self, history: list[dict[str, Any]], handled: list[int],
              stats: list[tuple[str, str, int]], ratings: list[dict[str, Any]]) -> None:
        self._unsaved.append((self.seq, history))
        unsaved = sum(len(entries) for _, entries in self._unsaved)
        while unsaved > MAX_UNSAVED_HISTORY and len(self._unsaved) > 1:
            _, dropped = self._unsaved.pop(0)
            unsaved -= len(dropped)
            log.error("session %s dropped %d unsaved history entries",
                      self._customer_id, len(dropped))
        self._handled = self._capped("handled ids", handled + self._handled,
                                     MAX_UNSAVED_HANDLED)
        # Counters are not idempotent: after an ambiguous failure they may count
        # twice, which a statistic survives. A rating or an ended session sent
        # again is recognised by the commit script and listed once.
        self._stats = self._capped("counter increments", stats + self._stats,
                                   MAX_UNSAVED_STATS)
        self._ratings = self._capped("ratings", ratings + self._ratings, MAX_UNSAVED_RATINGS)
        self.dirty = True

    def _capped(self, what: str, items: list[T], cap: int) -> list[T]:
        """The newest ``cap`` items; the loss is logged."""
        if len(items) <= cap:
            return items
        log.error("session %s dropped %d unsaved %s", self._customer_id, len(items) - cap, what)
        return items[-cap:]
