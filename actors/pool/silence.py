"""Which servicers have gone quiet: when each was last heard from.

A servicer with customers who writes nothing for ``auto_pause_secs`` is
paused by the pool (they left their desk); the clock is the monotonic one.
"""

from __future__ import annotations

from collections.abc import Iterable


class Silence:
    __slots__ = ("_heard",)

    def __init__(self) -> None:
        self._heard: dict[str, float] = {}  # servicer -> monotonic time last heard

    def heard(self, servicer_id: str, now: float) -> None:
        self._heard[servicer_id] = now

    def longer_than(self, limit_secs: float, servicers: Iterable[str],
                    now: float) -> list[tuple[str, float]]:
        """Those of ``servicers`` silent for ``limit_secs`` or more, with how long."""
        silent = []
        for servicer_id in servicers:
            secs = now - self._heard.get(servicer_id, now)
            if secs >= limit_secs:
                silent.append((servicer_id, secs))
        return silent
