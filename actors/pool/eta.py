"""How long a waiting customer will wait: said honestly, as a range.

The estimate is the recent average time a servicer spends with a customer,
times the customer's place in the queue, divided by the servicers on duty
for their group (Rocket.Chat shows the same kind of estimate with the
queue position). It is a guess, so it is said as a range, from half to one
and a half times the estimate, in whole minutes.
"""

from __future__ import annotations

from collections import deque

HANDLE_TIMES_KEPT = 50  # the most recent seats that ended
DEFAULT_HANDLE_SECS = 300.0  # before any seat has ended


class WaitEstimate:
    __slots__ = ("_recent",)

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=HANDLE_TIMES_KEPT)

    def handled(self, secs: float) -> None:
        """A seat ended after ``secs`` with its servicer."""
        self._recent.append(max(0.0, secs))

    def average(self) -> float:
        return sum(self._recent) / len(self._recent) if self._recent else DEFAULT_HANDLE_SECS

    def range_secs(self, position: int, servicers_on_duty: int) -> tuple[int, int]:
        estimate = self.average() * position / max(1, servicers_on_duty)
        return int(estimate * 0.5), int(estimate * 1.5)


def wait_words(low_secs: int, high_secs: int) -> tuple[str, str]:
    """("2-5 分钟", "2-5 minutes"), or under a minute."""
    low, high = low_secs // 60, max(1, -(-high_secs // 60))
    if high_secs < 60:
        return "不到 1 分钟", "under a minute"
    if low == high or low == 0:
        return f"{high} 分钟以内", f"up to {high} minutes"
    return f"{low}-{high} 分钟", f"{low}-{high} minutes"
