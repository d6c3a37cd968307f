"""Our actor mailbox (actors/mailbox.py) against the inbox Pykka gives a
ThreadingActor, ``queue.Queue`` (on gevent's locks once patched): the same
puts, gets, waits and killed readers give the same messages in the same
order, and the same answers to ``empty()`` and the length."""

import queue

import gevent
import pykka
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.mailbox import Mailbox

operations = st.lists(st.one_of(
    st.tuples(st.just("put"), st.integers(0, 99)),
    st.tuples(st.just("get"), st.just(0)),
    st.tuples(st.just("read"), st.integers(1, 4)),  # a reader that waits for n messages
    st.tuples(st.just("kill"), st.just(0)),
    st.tuples(st.just("settle"), st.just(0)),
), max_size=25)


def settle():
    for _ in range(10):  # every wake-up has run by now: each takes one loop turn
        gevent.sleep(0)


def run(inbox, size, steps):
    trace = []
    reader = None
    received = []

    def read(n):
        for _ in range(n):
            received.append(inbox.get())

    for op, arg in steps:
        busy = reader is not None and not reader.dead
        if op == "put":
            inbox.put(arg)
        elif op == "get" and not busy and not inbox.empty():
            trace.append(("got", inbox.get()))
        elif op == "read" and not busy:
            reader = gevent.spawn(read, arg)
            settle()
        elif op == "kill" and busy:
            reader.kill()
            trace.append(("killed", list(received)))
        elif op == "settle":
            settle()
            trace.append(("state", list(received), inbox.empty(), size(inbox)))
    if reader is not None:
        reader.kill()
    trace.append(("received", received))
    while not inbox.empty():
        trace.append(("left", inbox.get()))
    return trace


@settings(max_examples=150, deadline=None)
@given(steps=operations)
def test_the_mailbox_behaves_as_pykkas_own_inbox(steps):
    assert isinstance(pykka.ThreadingActor._create_actor_inbox(), queue.Queue)
    assert run(Mailbox(), len, steps) == run(queue.Queue(), queue.Queue.qsize, steps)
