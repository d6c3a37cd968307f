"""The allocation strategies as a pure choice (the pool's tests cover them end to end)."""

from actors.messages import Servicer
from actors.pool.allocation import choose

ALICE, BOB, CAROL = Servicer("alice", "A", capacity=2), Servicer("bob", "B", capacity=4), \
    Servicer("carol", "C", capacity=4)
EVERYONE = ["carol", "alice", "bob"]  # in any order: turns go by id


def test_least_loaded_compares_shares_of_capacity_and_breaks_ties_by_id():
    assert choose("least_loaded", [ALICE, BOB], {"alice": 1, "bob": 1}).servicer_id == "bob"
    assert choose("least_loaded", [ALICE, BOB], {"alice": 1, "bob": 2}).servicer_id == "alice"
    assert choose("least_loaded", [BOB, CAROL], {"bob": 0, "carol": 0}).servicer_id == "bob"


def test_round_robin_takes_turns_by_id_and_skips_who_is_not_free():
    loads = {"alice": 0, "bob": 0, "carol": 0}
    picked = []
    cursor = 0
    for free in ([ALICE, BOB, CAROL], [ALICE, BOB, CAROL], [ALICE, CAROL], [ALICE, BOB]):
        choice = choose("round_robin", free, loads, everyone=EVERYONE, cursor=cursor)
        picked.append(choice.servicer_id)
        cursor = choice.cursor
    assert picked == ["alice", "bob", "carol", "alice"]
    assert cursor == 1


def test_sticky_returns_to_the_last_servicer_only_while_they_are_free():
    loads = {"alice": 1, "bob": 0}
    assert choose("sticky", [ALICE, BOB], loads, last="alice").servicer_id == "alice"
    assert choose("sticky", [BOB], {"bob": 0}, last="alice").servicer_id == "bob"
    assert choose("sticky", [ALICE, BOB], loads, last=None).servicer_id == "bob"


def test_nobody_free_is_no_choice_and_keeps_the_turn():
    assert choose("round_robin", [], {}, everyone=EVERYONE, cursor=2) == (None, 2)
