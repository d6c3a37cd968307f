"""The Store against the embedded Redis."""

import msgpack
import pytest

from storage.keys import HISTORY_MAX_ENTRIES
from storage.store import pack


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
