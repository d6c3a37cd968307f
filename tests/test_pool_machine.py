"""The ServicerPool under any interleaving: a hypothesis state machine.

Real Pykka actors (the pool, and small stand-in sessions that keep every
notice they are told), a manual clock, the embedded Redis for the pool's
snapshot; no sleeps: after each step the test waits until every actor has
handled what it was told, then checks the invariants. A step may send
several messages before that wait (a burst), so a session can stop while
its release is still in the pool's mailbox, or while the queue drains.

Run size: MAX_EXAMPLES programs of up to STEPS steps (derandomized: CI runs
the same programs every time; hypothesis prints the failing program and a
blob to reproduce it).
"""

import os
import secrets

import pykka
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from actors.call import ask, tell
from actors.config import config_from_dict
from actors.durability.outbox import Outbox
from actors.messages import (
    PoolRestarted,
    Queued,
    SeatAssigned,
    SeatRevoked,
    SeatUnavailable,
    Servicer,
    TransferFailed,
)
from actors.pool import ServicerPool
from actors.pool.actor import HandRefused, SeatRefused
from actors.supervision import Supervised
from fakes import ManualClock, RecordingDeliver
from storage import Store, connect
from waiting import wait_until

MAX_EXAMPLES = 100
STEPS = 40
SERVICERS = {"alice": ("sales",), "bob": ("tech",), "carol": ()}
CUSTOMERS = [f"c{i}" for i in range(8)]
GROUPS = ["", "sales", "tech"]
TIMEOUT = 5.0


class StandInSession(pykka.ThreadingActor):
    """Plays a customer's session for the pool: keeps every notice, and asks
    again after a pool restart, as SessionActor does."""

    use_daemon_thread = True

    def __init__(self, customer_id, pool, group, priority):
        super().__init__()
        self.customer_id = customer_id
        self.pool = pool
        self.group = group
        self.priority = priority
        self.notices = []
        self.servicer = None  # whom the last notice seated us with
        self.waiting = True  # asked, not yet seated or refused

    def on_receive(self, message):
        if isinstance(message, PoolRestarted):
            if self.waiting or self.servicer is not None:
                tell(self.pool, ServicerPool.request_seat, self.customer_id, self.actor_ref,
                     self.group, self.priority)
            else:
                tell(self.pool, ServicerPool.release_customer, self.customer_id)
            return None
        if isinstance(message, tuple) and hasattr(message, "_fields"):
            self.notices.append(message)
            if isinstance(message, SeatAssigned):
                self.servicer, self.waiting = message.seat.servicer.id, False
            elif isinstance(message, (Queued, SeatRevoked)):
                self.servicer, self.waiting = None, True
            elif isinstance(message, SeatUnavailable):
                self.servicer, self.waiting = None, False
            return None
        if message == "view":
            return (list(self.notices), self.servicer, self.waiting)
        if isinstance(message, tuple) and message[0] == "ask":
            if self.servicer is None and not self.waiting:  # a new request
                _, self.group, self.priority = message
                self.waiting = True
            tell(self.pool, ServicerPool.request_seat, self.customer_id, self.actor_ref,
                 self.group, self.priority)
        return None


def _nothing(actor):
    return None


def _serves(servicer, group):
    return Servicer(servicer, servicer, groups=SERVICERS[servicer]).serves(group)


class PoolMachine(RuleBasedStateMachine):
    """Rules for every message the pool takes, and the awkward moments."""

    customers = Bundle("customers")

    def __init__(self):
        super().__init__()
        config = config_from_dict({
            "servicers": [{"id": s, "name": s.title(), "capacity": 1, "groups": list(g)}
                          for s, g in SERVICERS.items()],
            "queue_max_wait_secs": 60, "auto_pause_secs": 120, "queue_max_length": 5,
            "off_duty_policy": "requeue", "reassign_after_secs": 90, "pause_after_missed": 3})
        self.clock = ManualClock()
        self.store = Store(connect(REDIS_URL[0]), prefix=f"sm-{secrets.token_hex(4)}")
        self.outbox = Outbox(RecordingDeliver(), self.clock).start()
        self.pool = Supervised("pool", lambda on_death: ServicerPool.start(
            config, robot_id="cs_robot", outbox=self.outbox, store=self.store,
            clock=self.clock, on_death=on_death))
        self.pool.on_restart.append(self._pool_restarted)
        self.sessions = {}  # customer -> live StandInSession ref
        self.arrival = {}  # customer -> request number (FIFO check)
        self.requeued = set()  # customers handed back: they go first, not by arrival
        self.requests = 0
        # servicer -> the most customers they may have: their capacity, or more when a
        # person seated one past it (take next, assign); it comes back down as their
        # customers leave, so an automatic seat over capacity is still caught.
        self.ceiling = {}

    def _pool_restarted(self, ref):
        tell(self.pool, ServicerPool.reconcile, frozenset(self.sessions))
        for session in self.sessions.values():
            session.tell(PoolRestarted())

    def teardown(self):
        self.pool.stop(timeout=TIMEOUT)
        for session in self.sessions.values():
            session.stop(block=False)
        self.outbox.stop()
        self.store.delete_all()

    # Waiting for quiet ---------------------------------------------------

    def settle(self):

        """Every actor has handled all it was told; twice, since sessions and
        the pool answer each other."""
        assert wait_until(lambda: self.pool.ready, TIMEOUT, poll=0.001)
        for _ in range(3):
            ask(self.pool, _nothing).get(timeout=TIMEOUT)
            for session in list(self.sessions.values()):
                try:
                    session.ask("view", timeout=TIMEOUT)
                except pykka.ActorDeadError:
                    pass

    # Rules ------------------------------------------------------------------

    @initialize(target=customers, on_duty=st.sets(st.sampled_from(sorted(SERVICERS)),
                                                   min_size=1),
                asks=st.lists(st.tuples(st.sampled_from(GROUPS), st.sampled_from([0, 0, 5])),
                              min_size=2, max_size=6))
    def busy_start(self, on_duty, asks):
        """Some servicers on duty and a crowd asking at once: queues form early."""
        for servicer in sorted(on_duty):
            tell(self.pool, ServicerPool.set_status, servicer, "on")
        self.settle()
        started = []
        for customer, (group, priority) in zip(CUSTOMERS, asks, strict=False):
            session = StandInSession.start(customer, self.pool, group, priority)
            self.sessions[customer] = session
            self.requests += 1
            self.arrival[customer] = self.requests
            tell(self.pool, ServicerPool.request_seat, customer, session, group, priority)
            started.append(customer)
        self.settle()
        return multiple(*started)

    @rule(servicer=st.sampled_from(sorted(SERVICERS)),
          status=st.sampled_from(["on", "on", "paused", "off"]))
    def set_status(self, servicer, status):
        tell(self.pool, ServicerPool.set_status, servicer, status)
        self.settle()

    @rule(target=customers, customer=st.sampled_from(CUSTOMERS), group=st.sampled_from(GROUPS),
          priority=st.sampled_from([0, 0, 0, 5, 9]))
    def request_seat(self, customer, group, priority):
        if customer in self.sessions:  # the customer asks again (a repeat, or after a refusal)
            session = self.sessions[customer]
            _, servicer, waiting = session.ask("view", timeout=TIMEOUT)
            if servicer is None and not waiting:
                self.requests += 1
                self.arrival[customer] = self.requests
            session.tell(("ask", group, priority))
            self.settle()
            return multiple()
        session = StandInSession.start(customer, self.pool, group, priority)
        self.sessions[customer] = session
        self.requests += 1
        self.arrival[customer] = self.requests
        self.requeued.discard(customer)
        tell(self.pool, ServicerPool.request_seat, customer, session, group, priority)
        self.settle()
        return customer

    @rule(target=customers, customer=st.sampled_from(CUSTOMERS), group=st.sampled_from(GROUPS))
    def leave_a_message(self, customer, group):
        """A customer leaves a message: it waits even with nobody on duty."""
        if customer in self.sessions:
            return multiple()
        session = StandInSession.start(customer, self.pool, group, 0)
        self.sessions[customer] = session
        self.requests += 1
        self.arrival[customer] = self.requests
        self.requeued.discard(customer)
        tell(self.pool, ServicerPool.request_seat, customer, session, group, 0, True)
        self.settle()
        return customer

    @rule(customer=consumes(customers), stop_first=st.booleans())
    def session_ends(self, customer, stop_first):
        """The customer leaves: the session releases its seat and stops; with
        ``stop_first`` it is gone before the pool reads the release."""
        session = self.sessions.pop(customer, None)
        if session is None:
            return
        if stop_first:
            session.stop(block=True, timeout=TIMEOUT)
            tell(self.pool, ServicerPool.release_customer, customer)
        else:
            tell(self.pool, ServicerPool.release_customer, customer)
            ask(self.pool, _nothing).get(timeout=TIMEOUT)
            session.stop(block=True, timeout=TIMEOUT)
        self.settle()

    @rule(pick=st.sampled_from([0, 0, 0, 1, 2]), servicer=st.sampled_from(sorted(SERVICERS)),
          status=st.sampled_from(["on", "on", "off", "paused"]))
    def queued_session_stops_as_a_seat_frees(self, pick, servicer, status):
        """A waiting customer's session dies (they left) in the same instant as
        a status change that may drain the queue to them; the release comes last."""
        queue = ask(self.pool, ServicerPool.queue).get(timeout=TIMEOUT)
        candidates = [q["customer"] for q in queue] or sorted(self.sessions)
        if not candidates:
            return
        customer = candidates[pick % len(candidates)]
        session = self.sessions.pop(customer)
        session.stop(block=True, timeout=TIMEOUT)
        tell(self.pool, ServicerPool.set_status, servicer, status)
        tell(self.pool, ServicerPool.release_customer, customer)
        self.settle()

    @rule(customer=customers, to=st.sampled_from([None, *sorted(SERVICERS)]))
    def transfer(self, customer, to):
        seats = ask(self.pool, ServicerPool.seats).get(timeout=TIMEOUT)
        reason = ask(self.pool, ServicerPool.transfer, customer, to).get(timeout=TIMEOUT)
        if reason is None and to is None and customer in seats:
            self.requeued.add(customer)
        self.settle()

    @rule(servicer=st.sampled_from(sorted(SERVICERS)), capacity=st.integers(1, 3))
    def change_capacity(self, servicer, capacity):
        groups = SERVICERS[servicer]
        try:
            ask(self.pool, ServicerPool.upsert_servicer,
                Servicer(servicer, servicer.title(), "", capacity, groups)).get(timeout=TIMEOUT)
        except SeatRefused:
            pass  # below the customers they have now: refused, nothing changed
        self.settle()

    def _by_hand(self, servicer, method, *args):
        """Ask for a seat by hand; returns (the answer or None, the refusal's code or
        None), and raises the servicer's ceiling by the seat it may have given."""
        before = ask(self.pool, ServicerPool.servicer, servicer).get(timeout=TIMEOUT)
        try:
            answer, code = ask(self.pool, method, *args).get(timeout=TIMEOUT), None
        except HandRefused as refused:
            answer, code = None, refused.code
        if code is None:
            self.ceiling[servicer] = max(self.ceiling.get(servicer, 0), before["load"] + 1)
        if before["status"] == "off":
            assert code == "servicer_off", (servicer, answer)
        self.settle()
        return answer, code

    @rule(servicer=st.sampled_from(sorted(SERVICERS)))
    def take_next(self, servicer):
        """A servicer takes the next waiting customer by hand, full or not."""
        queue = ask(self.pool, ServicerPool.queue).get(timeout=TIMEOUT)
        taken, code = self._by_hand(servicer, ServicerPool.take_next, servicer)
        if code == "servicer_off":
            return
        views = {c: s.ask("view", timeout=TIMEOUT) for c, s in self.sessions.items()}
        handed_back = self.requeued | {c for c, (notices, _, _) in views.items()
                                       if any(isinstance(n, SeatRevoked) for n in notices)}
        # Everyone ahead of who was taken (everyone, when none was) is of another
        # group, or was handed back and may be one this servicer must not get again.
        ahead = [q for q in queue if q["customer"] != taken]
        if taken is not None:
            assert code is None and taken in [q["customer"] for q in queue]
            ahead = ahead[:[q["customer"] for q in queue].index(taken)]
            assert _serves(servicer, next(q["group"] for q in queue
                                          if q["customer"] == taken))
        else:
            assert code == "queue_empty", code
        for entry in ahead:
            assert not _serves(servicer, entry["group"]) or entry["customer"] in handed_back, (
                servicer, taken, queue)

    @rule(pick=st.integers(0, len(CUSTOMERS) - 1), servicer=st.sampled_from(sorted(SERVICERS)))
    def assign_queued(self, pick, servicer):
        """A supervisor places a customer (waiting, or not: refused) with a servicer."""
        queue = ask(self.pool, ServicerPool.queue).get(timeout=TIMEOUT)
        waiting = {q["customer"]: q["group"] for q in queue}
        customer = sorted(waiting)[pick % len(waiting)] if waiting else CUSTOMERS[pick]
        _, code = self._by_hand(servicer, ServicerPool.assign_waiting, customer, servicer)
        if code == "servicer_off":
            return
        if customer not in waiting:
            assert code == "not_waiting", code
        elif not _serves(servicer, waiting[customer]):
            assert code == "not_in_group", code
        else:
            assert code is None, code
            seats = ask(self.pool, ServicerPool.seats).get(timeout=TIMEOUT)
            assert seats.get(customer) == servicer

    @rule(customer=customers, priority=st.sampled_from([0, 3, 9]))
    def change_priority(self, customer, priority):
        ask(self.pool, ServicerPool.set_priority, customer, priority).get(timeout=TIMEOUT)
        self.settle()

    @rule(customer=customers)
    def servicer_answers(self, customer):
        """The customer's servicer writes to them (so they are not reassigned)."""
        servicer = ask(self.pool, ServicerPool.seats).get(timeout=TIMEOUT).get(customer)
        if servicer is not None:
            tell(self.pool, ServicerPool.servicer_active, servicer, customer)
            self.settle()

    @rule(secs=st.sampled_from([1, 30, 61, 130]))
    def time_passes(self, secs):
        """Queue waits expire (60 s), unanswered customers move on (90 s), silent
        servicers pause (120 s), and so do those who missed three in a row."""
        self.clock.advance(secs)
        self.settle()

    @rule()
    def pool_dies(self):
        """Something the boundary cannot catch kills the pool (a proxy call to a
        method that does not exist); the supervisor restarts it from its snapshot."""
        ref = self.pool.ref
        ref.tell(pykka.messages.ProxyCall(attr_path=("no_such_method",), args=(), kwargs={}))
        assert wait_until(lambda: self.pool.ref is not ref and self.pool.ready, TIMEOUT,
                          poll=0.001)
        self.settle()

    # Invariants -----------------------------------------------------------

    @invariant()
    def seats_are_consistent(self):
        status = ask(self.pool, ServicerPool.status).get(timeout=TIMEOUT)
        seated = {}
        for servicer in status.values():
            assert servicer["load"] == len(servicer["customers"])
            # Over capacity only by a person's seat, and never higher than it took them.
            ceiling = max(servicer["capacity"], self.ceiling.get(servicer["id"], 0))
            assert servicer["load"] <= ceiling, (servicer, ceiling)
            self.ceiling[servicer["id"]] = max(servicer["capacity"],
                                               min(ceiling, servicer["load"]))
            for customer in servicer["customers"]:
                assert customer not in seated, f"{customer} seated twice"
                seated[customer] = servicer["id"]
        queue = ask(self.pool, ServicerPool.queue).get(timeout=TIMEOUT)
        waiting = [q["customer"] for q in queue]
        assert len(waiting) == len(set(waiting)), "a customer queued twice"
        assert not set(waiting) & set(seated), "seated and queued at once"
        assert set(waiting) | set(seated) <= set(self.sessions), "a closed session kept"
        views = {c: s.ask("view", timeout=TIMEOUT) for c, s in self.sessions.items()}
        # Handed back, or moved off a servicer who left: they go first, not by arrival.
        requeued = self.requeued | {c for c, (notices, _, _) in views.items()
                                    if any(isinstance(n, SeatRevoked) for n in notices)}
        self._check_queue_order(queue, requeued)
        self._check_sessions(views, seated, waiting)

    def _check_queue_order(self, queue, requeued):
        by_group = {}
        for entry in queue:
            by_group.setdefault(entry["group"], []).append(entry)
        for entries in by_group.values():
            priorities = [e["priority"] for e in entries]
            assert priorities == sorted(priorities, reverse=True), entries
            assert [e["position"] for e in entries] == list(range(1, len(entries) + 1))
            for first, second in zip(entries, entries[1:], strict=False):
                if first["priority"] == second["priority"] and not (
                        {first["customer"], second["customer"]} & requeued):
                    assert self.arrival[first["customer"]] < self.arrival[second["customer"]]

    def _check_sessions(self, views, seated, waiting):
        for customer, (notices, servicer, is_waiting) in views.items():
            if customer in seated:
                assert servicer == seated[customer], (customer, notices)
            else:
                assert servicer is None, (customer, seated, notices)
            if customer in waiting:
                assert is_waiting, (customer, notices)
            self._check_notices(customer, notices)

    @staticmethod
    def _check_notices(customer, notices):
        """A seat is never followed by another seat unless it says it moved the
        customer from the first (or something came in between)."""
        last = None
        for notice in notices:
            if isinstance(notice, SeatAssigned):
                seat = notice.seat
                if last is not None and seat.servicer.id != last:
                    assert seat.previous is not None and seat.previous.id == last, (
                        customer, notices)
                last = seat.servicer.id
            elif isinstance(notice, (Queued, SeatRevoked, SeatUnavailable)):
                last = None
            elif isinstance(notice, TransferFailed):
                pass


REDIS_URL = [""]


@pytest.fixture(autouse=True)
def _redis(redis_url):
    REDIS_URL[0] = redis_url


# No shrinking in CI: a failing program is reported as found, at once (shrinking
# thousands of actor steps took minutes); set SHRINK=1 to shrink one locally.
PoolMachine.TestCase.settings = settings(
    max_examples=MAX_EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True,
    database=None, print_blob=True,
    phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("SHRINK")
                                                else []),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestPool = PoolMachine.TestCase
