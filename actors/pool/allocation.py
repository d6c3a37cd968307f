"""Who gets the next customer, among the servicers free to take one.

``least_loaded`` (the default) picks the lowest share of capacity, ties by
id; ``round_robin`` takes servicers in turn, by id, skipping those not free;
``sticky`` gives a returning customer their last servicer when free, and
otherwise falls back to least loaded. A pure choice: the pool owns the
state it is made from, and keeps the round-robin cursor it returns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from actors.messages import Servicer


class Choice(NamedTuple):
    servicer_id: str | None  # None: nobody is free
    cursor: int  # where round robin goes on from next time


def choose(strategy: str, free: Sequence[Servicer], load: Mapping[str, int], *,
           last: str | None = None, everyone: Collection[str] = (), cursor: int = 0) -> Choice:
    """Pick among ``free`` (on duty, serving the group, under capacity).

    Args:
        load: customers seated with each free servicer.
        last: the customer's last servicer (``sticky``).
        everyone: every servicer id (``round_robin`` turns through them by id).
        cursor: the round-robin position the previous choice returned.
    """
    if not free:
        return Choice(None, cursor)
    if strategy == "sticky" and any(s.id == last for s in free):
        return Choice(last, cursor)
    if strategy == "round_robin" and everyone:
        order = sorted(everyone)
        free_ids = {s.id for s in free}
        for step in range(len(order)):
            index = (cursor + step) % len(order)
            if order[index] in free_ids:
                return Choice(order[index], (index + 1) % len(order))
    best = min(free, key=lambda s: (load[s.id] / s.capacity, s.id))
    return Choice(best.id, cursor)
