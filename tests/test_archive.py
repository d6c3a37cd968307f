"""The archive of ended sessions (storage/archive.py): written by the session's commit,
read by time range and by customer, bounded, and the figures over a range."""

import pytest

from storage import StorageError
from storage.archive import SessionArchive, share, started_ms
from storage.keys import CUSTOMER_SESSIONS_KEPT


def ended(store, customer, n, closed, stars=None, servicers=("alice",), rating=None):
    session = f"{customer}:{closed - 60_000:013d}.abcd{n:04d}"
    summary = {"customer": customer, "session": session, "servicers": list(servicers),
               "reason": "rated" if stars else "left", "stars": stars, "closed": closed}
    ratings = [{"session": session, "servicer": servicers[0], "stars": stars,
                "comment": rating or "", "t": closed}] if stars else []
    store.commit(customer, None, ratings=ratings, ended=[summary])
    return session


@pytest.fixture
def archive(store):
    return SessionArchive.of(store)


def test_ended_sessions_are_found_by_time_range_newest_first(store, archive):
    ended(store, "c1", 1, 1_000_000)
    ended(store, "c2", 2, 2_000_000, stars=5, rating="很好 <b>great</b>")
    ended(store, "c1", 3, 3_000_000, servicers=())
    found = archive.ended_between(1_500_000, 3_000_000, 10)
    assert [s["customer"] for s in found] == ["c1", "c2"]
    newest, rated = found
    assert newest["with_person"] is False and rated["with_person"] is True
    assert rated["comment"] == "很好 <b>great</b>" and rated["stars"] == 5
    assert rated["started"] == 2_000_000 - 60_000 and rated["closed"] == 2_000_000
    assert newest["comment"] == ""
    assert archive.ended_between(1_500_000, 3_000_000, 1) == [newest]
    assert archive.ended_between(4_000_000, 5_000_000, 10) == []


def test_a_customers_sessions_are_listed_newest_first_and_capped(store, archive):
    for n in range(CUSTOMER_SESSIONS_KEPT + 3):
        ended(store, "loyal", n, 1_000_000 + n, stars=4 if n == 0 else None)
    ended(store, "other", 0, 5_000_000)
    listed = archive.customer_sessions("loyal", 1000)
    assert len(listed) == CUSTOMER_SESSIONS_KEPT
    assert listed[0]["closed"] == 1_000_000 + CUSTOMER_SESSIONS_KEPT + 2
    assert {s["customer"] for s in listed} == {"loyal"}
    assert archive.customer_sessions("nobody", 10) == []


def test_the_archive_keeps_only_the_newest_sessions(store, archive, monkeypatch):
    monkeypatch.setattr("storage.commit.ENDED_SESSIONS_KEPT", 3)
    for n in range(5):
        ended(store, f"c{n}", n, 1_000 + n, stars=5)
    assert [s["customer"] for s in archive.ended_between(0, 10_000, 100)] == ["c4", "c3", "c2"]
    assert archive.satisfaction(0, 10_000) == {"rated": 3, "satisfied": 3, "share": 1.0}


def test_satisfaction_is_the_share_of_four_and_five_stars_in_the_range(store, archive):
    for n, stars in enumerate([5, 4, 3, 1, None, 5]):
        ended(store, f"c{n}", n, 10_000 * (n + 1), stars=stars)
    assert archive.satisfaction(0, 10**9) == {"rated": 5, "satisfied": 3, "share": 0.6}
    assert archive.satisfaction(25_000, 45_000) == {"rated": 2, "satisfied": 0, "share": 0.0}
    assert archive.satisfaction(10**8, 10**9) == {"rated": 0, "satisfied": 0, "share": None}
    assert archive.ended_count(0, 35_000) == 3


def test_share_is_none_rather_than_nan_when_there_is_nothing_to_divide():
    assert share(0, 0) is None
    assert share(3, 5) == 0.6
    assert share(2, 3) == 0.667


def test_the_start_is_read_from_the_session_id_and_missing_when_it_is_not_there():
    assert started_ms("a:b:1700000000000.deadbeef") == 1_700_000_000_000
    assert started_ms("c:") is None and started_ms("") is None


def test_a_commit_whose_archive_key_is_unusable_writes_nothing(store, archive):
    store.client.set(store.keys.customer_sessions("c"), b"not a list")
    with pytest.raises(StorageError):
        ended(store, "c", 1, 1_000, stars=5)
    assert archive.ended_between(0, 10**9, 10) == [] and store.recent_sessions() == []
    assert archive.satisfaction(0, 10**9)["rated"] == 0


def test_satisfaction_past_the_cap_counts_only_sessions_the_archive_still_holds(
        store, archive, monkeypatch):
    # Each sorted set was trimmed to its own newest N, so the satisfied set (a
    # subset) reached further back than the rated one: old 5-star sessions
    # were still counted against newer 1-star ones, a share over 1 for an old
    # range, 1.0 here where none of the rated sessions kept was satisfied.
    monkeypatch.setattr("storage.commit.ENDED_SESSIONS_KEPT", 2)
    for n, stars in enumerate([5, 5, 1, 1]):
        ended(store, f"c{n}", n, 1_000 * (n + 1), stars=stars)
    assert [s["customer"] for s in archive.ended_between(0, 10_000, 100)] == ["c3", "c2"]
    assert archive.satisfaction(0, 10_000) == {"rated": 2, "satisfied": 0, "share": 0.0}
    assert archive.satisfaction(0, 2_500) == {"rated": 0, "satisfied": 0, "share": None}


def test_a_summary_committed_again_after_an_ambiguous_failure_is_listed_once(store, archive):
    # The Ledger sends a commit's ended summaries again when the commit seemed to
    # fail (a reply lost after Redis ran the script): they must not show twice.
    summary = {"customer": "c1", "session": "c1:0000000940000.abcd0001", "servicers": ["alice"],
               "reason": "left", "stars": None, "closed": 1_000_000}
    store.commit("c1", None, ended=[summary])
    store.commit("c1", None, ended=[summary])
    assert len(archive.ended_between(0, 2_000_000, 10)) == 1
    assert len(archive.customer_sessions("c1", 10)) == 1
    assert len(store.recent_sessions(10)) == 1


def test_a_rating_committed_again_is_listed_once_for_its_servicer(store):
    rating = {"session": "c1:0000000940000.abcd0001", "servicer": "alice", "stars": 5,
              "comment": "", "t": 1_000_000}
    store.commit("c1", None, ratings=[rating])
    store.commit("c1", None, ratings=[rating])
    assert store.ratings("alice") == [rating]
    store.commit("c1", None, ratings=[dict(rating, stars=4)])  # changed: it is news
    assert [r["stars"] for r in store.ratings("alice")] == [5, 4]
