"""Where a message that arrived late belongs in the history.

The IM server numbers messages as it accepts them, but posts callbacks over
five connections at once (docs/delivery.md), so two messages written close
together may reach us in the other order. We handle each as it comes (the
answer to a question cannot wait for one that may never come), and the
history keeps its entries in arrival order, because the time ``t`` of each
entry is the console's paging cursor and must only grow. A late entry is
instead marked ``ahead_of``: the ``t`` of the entry it should stand just
before (the message numbered next after it), and readers put it there
(storage/history.py ``in_message_order``). Readers never compare message ids
(a browser reads a 64-bit id rounded), only ``t``, which is exact.
"""

from __future__ import annotations

# Out-of-order delivery spans at most the IM server's five connections; a
# few more entries cover a repeat as well. Kept per live session only.
REMEMBERED = 8


class Arrivals:
    """The last few inbound messages' ids and where each stands."""

    __slots__ = ("_recent",)

    def __init__(self) -> None:
        self._recent: list[tuple[int, int]] = []  # (message id, t), arrival order

    def place(self, message_id: int, t: int) -> int | None:
        """Note a message recorded at ``t``; if a message the IM server numbered
        later came first, the ``t`` of the one numbered next after this one."""
        later = [(mid, at) for mid, at in self._recent if mid > message_id]
        self._recent.append((message_id, t))
        del self._recent[:-REMEMBERED]
        return min(later)[1] if later else None
