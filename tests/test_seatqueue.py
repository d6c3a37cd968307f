"""The waiting list on its own: priority, places within groups, who is told what."""

from actors.pool.queue import SeatQueue, Waiting

SESSION = object()  # the queue only carries session refs


def test_places_count_within_each_group_and_a_requeued_customer_goes_first():
    queue = SeatQueue()
    for customer, group in [("c1", ""), ("c2", "vip"), ("c3", ""), ("c4", "vip")]:
        queue.join(Waiting(customer, group, 0.0, None))
    queue.join(Waiting("c0", "", 0.0, None), first=True)
    assert [(w.customer_id, p) for w, p in queue.positions()] == [
        ("c0", 1), ("c1", 2), ("c2", 1), ("c3", 3), ("c4", 2)]
    assert queue.waiting_in("vip") == 2 and queue.waiting_in("") == 3
    assert queue.listing(now=12.34)[3] == {"customer": "c3", "group": "", "priority": 0,
                                           "position": 3, "waited_secs": 12.3,
                                           "message": False}


def test_higher_priority_goes_ahead_and_equal_priority_keeps_arrival_order():
    queue = SeatQueue()
    for customer, priority in [("c1", 0), ("c2", 5), ("c3", 0), ("c4", 5), ("c5", 9)]:
        queue.join(Waiting(customer, "", 0.0, None, priority))
    assert [w.customer_id for w in queue.entries] == ["c5", "c2", "c4", "c1", "c3"]
    queue.replace(queue.find("c3")._replace(priority=5))
    # c3 arrived before c4: at the same priority, it goes first
    assert [w.customer_id for w in queue.entries] == ["c5", "c2", "c3", "c4", "c1"]


def test_leaving_and_expiring_take_customers_out():
    queue = SeatQueue()
    for customer, since in [("c1", 1.0), ("c2", 5.0), ("c3", 9.0)]:
        queue.join(Waiting(customer, "", since, None, since_mono=since))
    assert queue.leave("c2") and not queue.leave("c2")
    assert [w.customer_id for w in queue.expire(1.0, 1.0)] == ["c1"]
    assert [w.customer_id for w in queue.entries] == ["c3"]


def test_a_session_is_told_its_place_only_when_it_changes():
    queue = SeatQueue()
    queue.join(Waiting("c1", "", 0.0, SESSION))
    queue.join(Waiting("c2", "", 0.0, SESSION))
    assert [(w.customer_id, p) for w, p in queue.changed_positions()] == [("c1", 1), ("c2", 2)]
    assert queue.changed_positions() == []  # nothing changed: nothing said
    queue.leave("c1")
    assert [(w.customer_id, p) for w, p in queue.changed_positions()] == [("c2", 1)]


def test_draining_seats_in_order_and_skips_sessionless_entries():
    queue = SeatQueue()
    queue.join(Waiting("restored", "", 0.0, None))  # its session has not asked again yet
    for customer in ("c1", "c2", "c3"):
        queue.join(Waiting(customer, "", 0.0, SESSION))
    offered = []

    def seat_one(waiting):  # one free seat
        offered.append(waiting.customer_id)
        return len(offered) == 1

    queue.drain(seat_one)
    assert offered == ["c1", "c2", "c3"]
    assert [w.customer_id for w in queue.entries] == ["restored", "c2", "c3"]
    assert [(w.customer_id, p) for w, p in queue.changed_positions()] == [("c2", 2), ("c3", 3)]
