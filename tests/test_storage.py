"""The Store against the embedded Redis."""

import msgpack
import pytest
import redis

from storage import CsError, StorageError, Store, connect
from storage.keys import HISTORY_MAX_ENTRIES, RECENT_SESSIONS_KEPT
from storage.store import MAX_COMMIT_RATINGS, pack


def test_session_snapshot_round_trips_and_close_removes_it(store):
    store.commit("carol", {"version": 1, "mode": "human", "recent": [1, 2]},
                 [{"dir": "in", "text": "hi"}])
    assert store.load_session("carol") == {"version": 1, "mode": "human", "recent": [1, 2]}
    assert store.open_session_ids() == ["carol"]
    store.commit("carol", None, [{"dir": "out", "text": "bye"}])
    assert store.load_session("carol") is None
    assert store.open_session_ids() == []
    assert [e["text"] for e in store.history("carol")] == ["hi", "bye"]


def test_unreadable_snapshot_is_skipped_not_fatal(store):
    store.commit("good", {"version": 1})
    store.client.sadd(store.keys.open_sessions, "bad")
    store.client.set(store.keys.session("bad"), b"\xc1\xc1 not msgpack")
    assert dict(store.load_open_sessions()) == {"good": {"version": 1}}


def test_ids_with_key_characters_stay_in_their_own_key(store):
    store.commit("a:b*c", {"version": 1}, [{"text": "x"}])
    store.commit("a", {"version": 2})
    assert store.load_session("a:b*c") == {"version": 1}
    assert store.load_session("a") == {"version": 2}
    assert store.history("a") == []


def test_history_is_capped(store):
    store.commit("chatty", {"version": 1}, [{"i": i} for i in range(HISTORY_MAX_ENTRIES + 10)])
    entries = store.history("chatty", HISTORY_MAX_ENTRIES + 100)
    assert len(entries) == HISTORY_MAX_ENTRIES
    assert entries[-1] == {"i": HISTORY_MAX_ENTRIES + 9}


def test_shadow_map_round_trips(store):
    store.save_shadow("carol*Shadow", "carol")
    assert store.load_shadows() == {"carol*Shadow": "carol"}


def test_a_value_that_cannot_be_packed_leaves_nothing_behind_for_the_next():
    # One Packer serves the process: a failed pack must not leave bytes in it.
    with pytest.raises(OverflowError):
        pack([1, {"too big": 2**70}])
    assert msgpack.unpackb(pack({"next": 1})) == {"next": 1}


def test_confirming_more_deliveries_than_lua_can_unpack_at_once_clears_them_all(store):
    # After a long Redis outage the outbox confirms everything it kept at once.
    tokens = [f"t{i:05d}" for i in range(9000)]
    store.journal_outbound([(t, {"n": 1}) for t in tokens])
    store.confirm_outbound(tokens)
    assert store.pending_outbound() == []


# Errors -------------------------------------------------------------------

def dead_store_calls(store):
    """Every public Store method, with arguments."""
    return {
        "ping": lambda: store.ping(),
        "commit": lambda: store.commit("c", {"version": 1}, [{"t": 1}]),
        "commit with a rating": lambda: store.commit(
            "c", None, ratings=[{"session": "s", "servicer": "x", "stars": 5}]),
        "load_session": lambda: store.load_session("c"),
        "open_session_ids": lambda: store.open_session_ids(),
        "load_open_sessions": lambda: list(store.load_open_sessions()),
        "accept_inbound": lambda: store.accept_inbound(1, [1]),
        "forget_inbound": lambda: store.forget_inbound([1]),
        "pending_inbound": lambda: store.pending_inbound(),
        "journal_outbound": lambda: store.journal_outbound([("t", [1])]),
        "confirm_outbound": lambda: store.confirm_outbound(["t"]),
        "pending_outbound": lambda: store.pending_outbound(),
        "journal_sizes": lambda: store.journal_sizes(),
        "history": lambda: store.history("c"),
        "history_page": lambda: store.history_page("c", 10),
        "first_use_of_nonce": lambda: store.first_use_of_nonce("n", 10),
        "servicer_stats": lambda: store.servicer_stats("x"),
        "answer_stats": lambda: store.answer_stats(),
        "recent_sessions": lambda: store.recent_sessions(),
        "ratings": lambda: store.ratings("x"),
        "rating": lambda: store.rating("s"),
        "save_shadow": lambda: store.save_shadow("s", "c"),
        "load_shadows": lambda: store.load_shadows(),
        "save_pool": lambda: store.save_pool({"version": 1}),
        "remember_servicer": lambda: store.remember_servicer("c", "x"),
        "last_servicers": lambda: store.last_servicers(10),
        "load_pool": lambda: store.load_pool(),
        "set_aside": lambda: store.set_aside("k", None, b"x", "why"),
        "bad_records": lambda: store.bad_records(),
        "delete_all": lambda: store.delete_all(),
    }


def test_every_store_method_raises_the_storage_error_when_redis_is_down():
    dead = Store(connect("redis://127.0.0.1:1/0"), prefix="dead")
    for name, call in dead_store_calls(dead).items():
        with pytest.raises(StorageError) as raised:
            call()
        assert isinstance(raised.value.__cause__, redis.RedisError), name
        assert isinstance(raised.value, CsError) and raised.value.http_status == 503, name


# Commit -------------------------------------------------------------------

def test_a_commit_carrying_more_than_lua_can_unpack_lands_whole(store):
    # A session's unsaved lists grow while Redis is down; the next commit
    # carries them all. Lua's unpack stops at about 8,000 values.
    ids = list(range(1, 9001))
    for i in ids:
        store.client.hset(store.keys.inbound, str(i), pack([i, "c", "r", {}, 0]))
    store.commit("c", {"version": 1, "seq": 7},
                 history=[{"t": i} for i in range(1500)],
                 outbound=[(f"tok{i:05d}", [i]) for i in range(4500)],
                 handled=ids,
                 stats=[("alice", "replies", 1)] * 9000)
    assert store.load_session("c") == {"version": 1, "seq": 7}
    assert store.client.hlen(store.keys.inbound) == 0
    assert store.client.hlen(store.keys.outbound) == 4500
    assert store.client.llen(store.keys.history("c")) == 1500
    assert store.servicer_stats("alice") == {"replies": 9000}


def test_a_commit_that_cannot_succeed_writes_nothing(store):
    store.commit("c", {"version": 1, "seq": 1}, history=[{"t": 1}])
    store.client.set(store.keys.stats("alice"), b"not a hash")  # HINCRBY would fail
    with pytest.raises(StorageError):
        store.commit("c", {"version": 1, "seq": 2}, history=[{"t": 2}],
                     outbound=[("tok", [1])], stats=[("alice", "replies", 1)],
                     ratings=[{"session": "s1", "servicer": "bob", "stars": 4}],
                     ended=[{"session": "s1"}])
    assert store.load_session("c") == {"version": 1, "seq": 1}
    assert [e["t"] for e in store.history("c")] == [1]
    assert store.pending_outbound() == []
    assert store.rating("s1") is None and store.ratings("bob") == []
    assert store.recent_sessions() == []


def test_a_counter_field_that_is_not_a_number_fails_the_commit_before_any_write(store):
    store.client.hset(store.keys.stats("alice"), "replies", "many")
    with pytest.raises(StorageError):
        store.commit("c", {"version": 1}, history=[{"t": 1}], stats=[("alice", "replies", 1)])
    assert store.load_session("c") is None and store.history("c") == []


def test_an_entry_that_cannot_be_encoded_is_dropped_and_the_rest_commit(store, caplog):
    store.commit("c", {"version": 1}, history=[{"t": 1}, {"t": 2**70}, {"t": 3}])
    assert [e["t"] for e in store.history("c")] == [1, 3]
    assert "could not be encoded" in caplog.text


def test_every_list_a_commit_carries_is_capped_and_the_loss_logged(store, caplog):
    store.commit("c", {"version": 1},
                 history=[{"t": i} for i in range(HISTORY_MAX_ENTRIES + 5)],
                 ratings=[{"session": f"s{i}", "servicer": "bob", "stars": 5}
                          for i in range(MAX_COMMIT_RATINGS + 3)],
                 ended=[{"session": f"s{i}"} for i in range(RECENT_SESSIONS_KEPT + 2)])
    assert len(store.history("c", HISTORY_MAX_ENTRIES)) == HISTORY_MAX_ENTRIES
    assert len(store.ratings("bob", 10 * MAX_COMMIT_RATINGS)) == MAX_COMMIT_RATINGS
    assert store.rating(f"s{MAX_COMMIT_RATINGS + 2}") is not None  # the newest are kept
    assert store.rating("s0") is None
    assert "history entries" in caplog.text and "ratings" in caplog.text


def test_ratings_and_ended_sessions_commit_with_the_snapshot(store):
    store.commit("c", None, history=[{"t": 1}],
                 ratings=[{"session": "s1", "servicer": "bob", "stars": 4}],
                 ended=[{"session": "s1", "customer": "c"}])
    assert store.rating("s1") == {"session": "s1", "servicer": "bob", "stars": 4}
    assert store.ratings("bob") == [{"session": "s1", "servicer": "bob", "stars": 4}]
    assert store.recent_sessions() == [{"session": "s1", "customer": "c"}]


# Records that cannot be read ------------------------------------------------

def test_a_bad_session_snapshot_is_set_aside_and_the_rest_load(store):
    store.commit("good", {"version": 1})
    for customer, raw in [("garbled", b"\xc1\xc1"), ("a-list", pack([1, 2]))]:
        store.client.sadd(store.keys.open_sessions, customer)
        store.client.set(store.keys.session(customer), raw)
    assert dict(store.load_open_sessions()) == {"good": {"version": 1}}
    bad = {r["key"]: r for r in store.bad_records()}
    assert set(bad) == {store.keys.session("garbled"), store.keys.session("a-list")}
    assert bad[store.keys.session("garbled")]["raw"] == b"\xc1\xc1"
    assert bad[store.keys.session("a-list")]["why"]
    assert store.open_session_ids() == ["good"]
    assert store.client.exists(store.keys.session("garbled")) == 0


def test_bad_inbound_journal_entries_are_set_aside_and_the_rest_replay(store):
    good = [5, "carol", "robot", {"type": 1}, 1000]
    store.client.hset(store.keys.inbound, mapping={
        "5": pack(good), "6": pack([6, "carol", "robot", [1, 2], 1000]),
        "7": pack([7, "carol"]), "8": b"\xc1", "nine": pack(good), "10": pack({"a": 1})})
    assert store.pending_inbound() == [(5, good)]
    fields = sorted(r["field"] for r in store.bad_records())
    assert fields == ["10", "6", "7", "8", "nine"]
    assert store.client.hkeys(store.keys.inbound) == [b"5"]


def test_bad_outbound_journal_entries_are_set_aside_and_the_rest_resend(store):
    good = ["robot", "carol", {"type": 1}, "carol"]
    store.client.hset(store.keys.outbound, mapping={
        "a": pack(good), "b": pack(["robot", "carol", "text", "carol"]),
        "c": pack(["robot"]), "d": b"\xc1"})
    assert store.pending_outbound() == [("a", good)]
    assert sorted(r["field"] for r in store.bad_records()) == ["b", "c", "d"]


def test_a_bad_pool_snapshot_is_set_aside(store):
    store.client.set(store.keys.pool, pack([1, 2, 3]))
    assert store.load_pool() is None
    assert [r["key"] for r in store.bad_records()] == [store.keys.pool]
    assert store.client.exists(store.keys.pool) == 0


def test_bad_shadow_entries_are_set_aside(store):
    store.save_shadow("ok*Shadow", "ok")
    store.client.hset(store.keys.shadows, mapping={
        "x*Shadow": b"\xc1", "y*Shadow": pack(["y"]), "z*Shadow": pack({"customer": 5})})
    assert store.load_shadows() == {"ok*Shadow": "ok"}
    assert sorted(r["field"] for r in store.bad_records()) == ["x*Shadow", "y*Shadow",
                                                                "z*Shadow"]


def test_an_actor_can_set_aside_a_record_it_finds_invalid(store):
    store.commit("carol", {"version": 1, "shadow": ["short"]})
    store.set_aside(store.keys.session("carol"), None, {"version": 1, "shadow": ["short"]},
                    "shadow is not [id, servicer]")
    assert list(store.load_open_sessions()) == []
    [record] = store.bad_records()
    assert record["why"] == "shadow is not [id, servicer]"
    assert msgpack.unpackb(record["raw"]) == {"version": 1, "shadow": ["short"]}
    assert record["when"] > 0


# History paging -------------------------------------------------------------

def redis_bytes_sent(store):
    return store.client.info("stats")["total_net_output_bytes"]


def test_a_poll_for_new_history_reads_only_what_is_new(store):
    filler = "x" * 200
    store.commit("c", {"version": 1},
                 [{"t": 1000 + i, "text": filler} for i in range(HISTORY_MAX_ENTRIES)])
    newest = 1000 + HISTORY_MAX_ENTRIES - 1
    store.commit("c", {"version": 1}, [{"t": newest + 5, "text": "new"}])
    before = redis_bytes_sent(store)
    page = store.history_page("c", 100, after_ms=newest, newest_first=False)
    sent = redis_bytes_sent(store) - before
    assert [e["text"] for e in page] == ["new"]
    # The old code read and decoded all 2,000 entries (~430 KB) for this.
    assert sent < 10_000, sent


@pytest.mark.parametrize("before, after, newest_first, limit, expected", [
    (None, None, True, 3, [9, 8, 7]),
    (None, None, False, 3, [0, 1, 2]),
    (5, None, True, 3, [4, 3, 2]),
    (5, None, False, 3, [2, 3, 4]),
    (None, 5, False, 3, [6, 7, 8]),
    (None, 5, True, 3, [9, 8, 7]),
    (7, 2, False, 10, [3, 4, 5, 6]),
    (7, 2, True, 2, [6, 5]),
    (None, 9, False, 3, []),
    (0, None, True, 3, []),
    (100, -5, False, 2, [0, 1]),
])
def test_history_pages_between_cursors(store, before, after, newest_first, limit, expected):
    store.commit("c", {"version": 1}, [{"t": t} for t in range(10)])
    page = store.history_page("c", limit, before, after, newest_first=newest_first)
    assert [e["t"] for e in page] == expected


def test_history_with_entries_redis_cannot_decode_still_pages(store):
    # Redis's cmsgpack cannot read msgpack's bin type; the Store pages such a
    # list itself rather than failing the console.
    store.commit("c", {"version": 1}, [{"t": t, "blob": b"\x00"} for t in range(5)])
    assert [e["t"] for e in store.history_page("c", 2, after_ms=1, newest_first=False)] == [2, 3]
    assert [e["t"] for e in store.history_page("c", 2)] == [4, 3]


def test_history_paged_without_redis_takes_its_page_by_t_like_the_script(store):
    # t=5 arrived late (it belongs before t=2): the page just after t=3 is t=4
    # whichever way the list is paged, else a console that pages "after the
    # newest t it has" would jump to 5 and never see 4.
    entries = [{"t": t, "blob": b"\x00"} for t in range(5)] + [{"t": 5, "ahead_of": 2}]
    store.commit("c", {"version": 1}, entries)
    assert [e["t"] for e in store.history_page("c", 1, after_ms=3, newest_first=False)] == [4]
    assert [e["t"] for e in store.history_page("c", 2, before_ms=5)] == [4, 3]
    assert [e["t"] for e in store.history_page("c", 6, newest_first=False)] == [0, 1, 5, 2, 3, 4]


def test_an_unreadable_history_entry_is_left_out_of_pages(store):
    store.commit("c", {"version": 1}, [{"t": 1}])
    store.client.rpush(store.keys.history("c"), b"\xc1")
    store.commit("c", {"version": 1}, [{"t": 3}])
    assert [e["t"] for e in store.history("c")] == [1, 3]
    assert [e["t"] for e in store.history_page("c", 10, newest_first=False)] == [1, 3]
