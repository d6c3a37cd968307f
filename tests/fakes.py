"""Small real stand-ins for the world outside the actors (no mocks of our own parts)."""

import gevent
import gevent.event

from actors.call import ask
from actors.durability.outbox import Delivery
from actors.messages import ShadowInfo
from actors.session.actor import ShadowError


class RecordingDeliver:
    """Plays the IM server for the Outbox: records what it is given.

    ``script`` holds Delivery results to hand out first (e.g. failures);
    after it runs out every send succeeds.
    """

    def __init__(self, script=()):
        self.sent = []
        self.attempts = 0
        self.script = list(script)
        self._changed = gevent.event.Event()

    def __call__(self, message):
        self.attempts += 1
        result = self.script.pop(0) if self.script else Delivery(ok=True)
        if result.ok:
            self.sent.append(message)
            self._changed.set()
        return result

    def to(self, target):
        return [m for m in self.sent if m.target == target]

    def texts_to(self, target):
        return [m.payload.searchableContent for m in self.to(target)]

    def wait_for(self, target, count, timeout=3.0):
        """Wait until ``target`` has received ``count`` messages; return their texts."""
        with gevent.Timeout(timeout, False):
            while len(self.to(target)) < count:
                self._changed.clear()
                self._changed.wait(0.05)
        return self.texts_to(target)


class ManualClock:
    """Time that moves only when a test says so.

    ``advance`` moves both clocks; ``step_wall`` moves only the wall clock,
    as an NTP correction or an operator would (timers do not fire).
    """

    def __init__(self, now=1_000_000.0):
        self._now = now
        self._mono = 5_000.0
        self._timers = []

    def now(self):
        return self._now

    def monotonic(self):
        return self._mono

    def step_wall(self, secs):
        self._now += secs

    def call_later(self, delay_secs, callback):
        timer = _ManualTimer(self._mono + delay_secs, callback)
        self._timers.append(timer)
        return timer

    def advance(self, secs):
        self._now += secs
        self._mono += secs
        due = [t for t in self._timers if t.due <= self._mono and not t.cancelled]
        self._timers = [t for t in self._timers if t not in due and not t.cancelled]
        for timer in sorted(due, key=lambda t: t.due):
            timer.callback()


class _ManualTimer:
    def __init__(self, due, callback):
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class ShadowMaker:
    """Stands in for the App Server: makes Shadows, or fails when told to."""

    def __init__(self, fail=False):
        self.fail = fail
        self.made = []

    def __call__(self, customer_id):
        if self.fail:
            raise ShadowError("App Server down")
        self.made.append(customer_id)
        return ShadowInfo(f"{customer_id}*Shadow", f"Name of {customer_id}", "")


def _nothing(actor):
    return None


def settle(*actors, rounds=2, timeout=3.0):
    """Wait until each actor, in order, has handled everything told to it so far.

    An ask is a message too, so its answer comes after every earlier
    message; two rounds cover one actor telling the next.
    """
    for _ in range(rounds):
        for actor in actors:
            ask(actor, _nothing).get(timeout=timeout)
        gevent.sleep(0)
