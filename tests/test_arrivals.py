"""A late arrival is shown where the IM server's numbering puts it."""

from hypothesis import given
from hypothesis import strategies as st

from actors.session.arrivals import REMEMBERED, Arrivals
from storage.history import in_message_order


def recorded(arrival_order, answers_after):
    """History entries as a session records them: each message at the next
    ``t``, some followed by an answer (no message id), late ones marked."""
    arrivals, entries, t = Arrivals(), [], 1000
    for i, mid in enumerate(arrival_order):
        entry = {"t": t, "dir": "in", "mid": mid}
        ahead_of = arrivals.place(mid, t)
        if ahead_of is not None:
            entry["ahead_of"] = ahead_of
        entries.append(entry)
        t += 1
        if answers_after[i]:
            entries.append({"t": t, "dir": "out"})
            t += 1
    return entries


@given(st.permutations(list(range(1, REMEMBERED + 2))), st.lists(st.booleans(),
       min_size=REMEMBERED + 1, max_size=REMEMBERED + 1))
def test_inbound_messages_read_back_in_message_id_order_whatever_order_they_came(order, answers):
    entries = recorded(order, answers)
    shown = in_message_order(entries)
    assert [e["mid"] for e in shown if e["dir"] == "in"] == sorted(order)
    # Nothing lost or doubled; the cursor field is untouched.
    assert sorted(e["t"] for e in shown) == [e["t"] for e in entries]


@given(st.lists(st.booleans(), min_size=6, max_size=6))
def test_in_order_arrivals_keep_the_history_as_it_was(answers):
    entries = recorded([10, 20, 30, 40, 50, 60], answers)
    assert in_message_order(entries) == entries
    assert not any("ahead_of" in e for e in entries)


def test_an_answer_stays_after_the_question_it_answers():
    # "hours" (id 2) came first and was answered; then "price" (id 1).
    entries = recorded([2, 1], [True, True])
    assert [(e["dir"], e.get("mid")) for e in in_message_order(entries)] == [
        ("in", 1), ("in", 2), ("out", None), ("out", None)]


def test_a_late_entry_whose_successor_is_not_in_the_page_keeps_its_place():
    entries = [{"t": 5, "dir": "out"}, {"t": 6, "dir": "in", "mid": 1, "ahead_of": 4}]
    assert in_message_order(entries) == entries


def test_entries_with_bad_fields_keep_their_place():
    entries = [{"t": 1, "dir": "out"}, {"t": 2, "ahead_of": True}, {"t": 3, "ahead_of": "x"},
               {"t": 4, "ahead_of": 1}]
    assert [e["t"] for e in in_message_order(entries)] == [4, 1, 2, 3]


def test_a_thousand_messages_arriving_in_reverse_read_back_in_order_and_nothing_is_lost():
    order = list(range(1000, 0, -1))  # each overtaken by the one after it
    entries = recorded(order, [False] * len(order))
    shown = in_message_order(entries)
    assert [e["mid"] for e in shown] == sorted(order)


def test_entries_naming_each_other_are_all_shown():
    entries = [{"t": 1, "ahead_of": 2}, {"t": 2, "ahead_of": 1}, {"t": 3, "ahead_of": 3}]
    assert sorted(e["t"] for e in in_message_order(entries)) == [1, 2, 3]
