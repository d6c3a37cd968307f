"""WildfireChat's own rules for the robot and admin APIs, as the simulator applies them.

Written from the IM server's behaviour (wildfirechat/im-server, DESIGN.md
§4), not imported from the CS server's code: the simulator is the other
side of every test, and a shared helper would let a wrong signature or a
wrong limit pass on both sides at once. tests/test_imsim.py pins fixed
vectors on each side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

# The IM server's error codes (its ErrorCode enum) that the robot API answers.
SUCCESS = 0
MISSING_HEADERS = 239  # "api not signed"
SIGN_EXPIRED = 243
BAD_SIGN = 244  # "auth failure"
OVER_FREQUENCY = 250
INVALID_PARAMETER = 251
NOT_EXIST = 253

SIGN_MAX_AGE_MS = 2 * 3600 * 1000  # an older timestamp is refused with 243


def im_sign(nonce: str, secret: str, timestamp: str) -> str:
    """The ``sign`` header the IM server expects: hex SHA-1 of ``nonce|secret|timestamp``."""
    return hashlib.sha1(f"{nonce}|{secret}|{timestamp}".encode()).hexdigest()


class RobotRateLimiter:
    """The IM server's per-robot leaky bucket (``http.robot.rate_limit`` per 10 s).

    As im-server counts: each grant adds 1,000 to a robot's level; the level
    leaks ``limit / period`` per second, reckoned in whole milliseconds; a
    request is granted while the level is below ``limit * 1000``, so a quiet
    robot has a burst of ``limit``, then the steady rate. A refusal adds
    nothing. Robots quiet for two hours are forgotten, as there.

    The real server reads the wall clock; the simulator passes a monotonic
    one so that a clock step on a test machine is not a burst of code 250.
    """

    FORGET_AFTER_MS = 2 * 3600 * 1000

    def __init__(self, limit: int, period_secs: float, clock_ms: Callable[[], int]) -> None:
        if limit <= 0 or period_secs <= 0:
            raise ValueError("limit and period must be positive")
        self._capacity = limit * 1000
        self._leak_per_ms = limit / period_secs  # thousandths of a request per ms
        self._clock_ms = clock_ms
        self._levels: dict[str, tuple[int, int]] = {}  # robot -> (level, at ms)
        self._cleaned_at = clock_ms()

    def granted(self, robot_id: str) -> bool:
        now = self._clock_ms()
        if now - self._cleaned_at > self.FORGET_AFTER_MS:
            self._forget(now)
        previous = self._levels.get(robot_id)
        if previous is None:
            self._levels[robot_id] = (1000, now)
            return True
        level, at = previous
        level = max(0, level - int((now - at) * self._leak_per_ms))
        if level < self._capacity:
            self._levels[robot_id] = (level + 1000, now)
            return True
        self._levels[robot_id] = (level, now)
        return False

    def _forget(self, now: int) -> None:
        self._cleaned_at = now
        for robot_id in [r for r, (_, at) in self._levels.items()
                         if at < now - self.FORGET_AFTER_MS]:
            del self._levels[robot_id]
