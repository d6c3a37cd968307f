"""Waiting for something to become true, with a deadline: the one polling loop
the tests share (never sleep, then assert)."""

import time

import gevent


def wait_until(predicate, timeout=5.0, poll=0.005):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its
    last value, for the caller to assert."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        gevent.sleep(poll)
    return predicate()
