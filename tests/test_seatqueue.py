"""The waiting list on its own: places within groups, and who is told what."""

import pykka

from actors.call import CallReceiver
from actors.pool.queue import SeatQueue, Waiting


class Listener(CallReceiver, pykka.ThreadingActor):
    """A stand-in session that keeps the positions it is told."""

    def __init__(self):
        super().__init__()
        self.told = []

    def queued(self, position):
        self.told.append(position)

    def heard(self):
        return list(self.told)


def heard(ref):
    return ref.proxy().heard().get(timeout=2)


def test_places_count_within_each_group_and_a_requeued_customer_goes_first():
    queue = SeatQueue()
    for customer, group in [("c1", ""), ("c2", "vip"), ("c3", ""), ("c4", "vip")]:
        queue.join(Waiting(customer, group, 0.0, None))
    queue.join(Waiting("c0", "", 0.0, None), first=True)
    assert [(w.customer_id, p) for w, p in queue.positions()] == [
        ("c0", 1), ("c1", 2), ("c2", 1), ("c3", 3), ("c4", 2)]
    assert queue.waiting_in("vip") == 2 and queue.waiting_in("") == 3
    assert queue.listing(now=12.34)[3] == {"customer": "c3", "group": "", "position": 3,
                                           "waited_secs": 12.3}


def test_leaving_and_expiring_take_customers_out():
    queue = SeatQueue()
    for customer, since in [("c1", 1.0), ("c2", 5.0), ("c3", 9.0)]:
        queue.join(Waiting(customer, "", since, None))
    assert queue.leave("c2") and not queue.leave("c2")
    assert [w.customer_id for w in queue.expire(deadline=1.0)] == ["c1"]
    assert [w.customer_id for w in queue.entries] == ["c3"]


def test_a_session_is_told_its_place_only_when_it_changes():
    first, second = Listener.start(), Listener.start()
    queue = SeatQueue()
    queue.join(Waiting("c1", "", 0.0, first))
    queue.join(Waiting("c2", "", 0.0, second))
    queue.tell_positions()
    queue.tell_positions()  # nothing changed: nothing said
    queue.leave("c1")
    queue.tell_positions()
    assert heard(first) == [1]
    assert heard(second) == [2, 1]


def test_draining_seats_in_order_skips_sessionless_entries_and_retells_places():
    session = Listener.start()
    queue = SeatQueue()
    queue.join(Waiting("restored", "", 0.0, None))  # its session has not asked again yet
    queue.join(Waiting("c1", "", 0.0, session))
    queue.join(Waiting("c2", "", 0.0, session))
    queue.join(Waiting("c3", "", 0.0, session))
    offered = []

    def seat_one(waiting):  # one free seat
        offered.append(waiting.customer_id)
        return len(offered) == 1

    queue.drain(seat_one)
    assert offered == ["c1", "c2", "c3"]
    assert [w.customer_id for w in queue.entries] == ["restored", "c2", "c3"]
    assert heard(session) == [2, 3]  # c2 and c3, behind the restored customer
