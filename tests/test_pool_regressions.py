"""Regression tests for ways the pool broke its promises (issue 19), each on real actors."""


import pykka
from test_pool_machine import StandInSession

from actors.call import ask, tell
from actors.config import config_from_dict
from actors.durability.outbox import Outbox
from actors.messages import SeatAssigned
from actors.pool import ServicerPool
from fakes import ManualClock, RecordingDeliver

TIMEOUT = 5.0


def _nothing(actor):
    return None


class Pool:
    """A pool with stand-in sessions (tests/test_pool_machine.py)."""

    def __init__(self, servicers, **config):
        self.clock = ManualClock()
        self.deliver = RecordingDeliver()
        self.outbox = Outbox(self.deliver, self.clock).start()
        self.config = config_from_dict({"servicers": servicers, **config})
        self.ref = ServicerPool.start(self.config, robot_id="cs_robot", outbox=self.outbox,
                                      clock=self.clock)
        self.sessions = {}

    def request(self, customer, group="", priority=0):
        session = StandInSession.start(customer, self.ref, group, priority)
        self.sessions[customer] = session
        tell(self.ref, ServicerPool.request_seat, customer, session, group, priority)
        self.settle()
        return session

    def settle(self):
        for _ in range(3):
            ask(self.ref, _nothing).get(timeout=TIMEOUT)
            for session in self.sessions.values():
                try:
                    session.ask("view", timeout=TIMEOUT)
                except pykka.ActorDeadError:
                    pass

    def seats(self):
        return ask(self.ref, ServicerPool.seats).get(timeout=TIMEOUT)

    def queued(self):
        return [q["customer"] for q in ask(self.ref, ServicerPool.queue).get(timeout=TIMEOUT)]

    def notices(self, customer):
        return self.sessions[customer].ask("view", timeout=TIMEOUT)[0]

    def status(self):
        return ask(self.ref, ServicerPool.status).get(timeout=TIMEOUT)


def test_a_queued_session_that_stopped_before_its_release_is_never_seated_twice():
    pool = Pool([{"id": "alice", "capacity": 1}, {"id": "bob", "capacity": 1}])
    assert ask(pool.ref, ServicerPool.set_status, "alice", "on").get(timeout=TIMEOUT)
    for customer in ("c1", "c2", "c3"):
        pool.request(customer)
    assert pool.seats() == {"c1": "alice"} and pool.queued() == ["c2", "c3"]
    pool.sessions.pop("c2").stop(block=True)  # c2 left; its release is on the way
    tell(pool.ref, ServicerPool.set_status, "bob", "on")  # a seat frees: the queue drains
    tell(pool.ref, ServicerPool.release_customer, "c2")
    pool.settle()
    assert pool.seats() == {"c1": "alice", "c3": "bob"}
    assert pool.queued() == []
    loads = {s["id"]: s["customers"] for s in pool.status().values()}
    assert loads == {"alice": ["c1"], "bob": ["c3"]}
    seated = [n.seat.servicer.id for n in pool.notices("c3") if isinstance(n, SeatAssigned)]
    assert seated == ["bob"]


def test_a_late_release_from_an_old_session_does_not_free_the_next_sessions_seat():
    """Found by review: the pool seats c2 with its dead session and queues a release
    for it; c2's new session asks before that release runs; the release must not
    free the new session's seat."""
    pool = Pool([{"id": "alice", "capacity": 1}, {"id": "bob", "capacity": 1}])
    assert ask(pool.ref, ServicerPool.set_status, "alice", "on").get(timeout=TIMEOUT)
    pool.request("c1")
    pool.request("c2")  # c2 waits
    pool.sessions.pop("c2").stop(block=True)  # c2 left: its session stopped
    renewed = StandInSession.start("c2", pool.ref, "", 0)
    tell(pool.ref, ServicerPool.set_status, "bob", "on")  # drains c2 to its dead session
    tell(pool.ref, ServicerPool.request_seat, "c2", renewed, "", 0)
    pool.sessions["c2"] = renewed
    pool.settle()
    told = [n.seat.servicer.id for n in pool.notices("c2") if isinstance(n, SeatAssigned)]
    assert told == ["bob"]
    assert pool.seats() == {"c1": "alice", "c2": "bob"}
    assert {s["id"]: s["customers"] for s in pool.status().values()} == {
        "alice": ["c1"], "bob": ["c2"]}


def test_an_answer_to_an_older_request_is_ignored_by_a_session_that_asked_again(store):
    """Found in review (not reproduced then): a seat from a transfer reached a session
    that had ended and asked for a person again; it took that seat, which the pool
    had freed, and released the one the pool gave for the new request."""
    from actors.messages import Seat, Servicer
    from world import World

    world = World(store)
    world.on_duty("alice")
    world.customer("c1", "human")
    world.deliver.wait_for("c1", 1)
    world.servicer("alice", "c1", "/end")
    world.customer("c1", "price?")  # a question, not a rating: back to the bot...
    world.customer("c1", "human")  # ...and it asks again: the session's second request
    world.deliver.wait_for("c1", 5)
    world.settle()
    seats = ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT)
    bob = Servicer("bob", "Bob", "", 2)
    stale = SeatAssigned(Seat("c1", bob, None, False, ticket=1))  # an answer to request 1
    state = world.session("c1").state().get(timeout=TIMEOUT)
    assert state["ticket"] == 2 and state["mode"] == "human" and seats == {"c1": "alice"}
    ask(world.actors.pool, ServicerPool.set_status, "alice", "paused").get(timeout=TIMEOUT)
    world.session("c1").ref.tell(stale)
    world.settle()
    state = world.session("c1").state().get(timeout=TIMEOUT)
    assert state["servicer"][0] == "alice"
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {"c1": "alice"}
