"""What a session keeps for its next commit while Redis is down stays bounded."""

from actors.durability.ledger import (
    MAX_UNSAVED_ANSWER_STATS,
    MAX_UNSAVED_ENDED,
    MAX_UNSAVED_HANDLED,
    MAX_UNSAVED_RATINGS,
    MAX_UNSAVED_STATS,
    Ledger,
)
from storage import StorageError


class FlakyStore:
    """Refuses commits while ``down``; records the one that succeeds."""

    def __init__(self):
        self.down = True
        self.committed = None

    def commit(self, customer_id, snapshot, history=(), outbound=(), handled=(), **lists):
        if self.down:
            raise StorageError("down")
        self.committed = {"history": list(history), "handled": list(handled),
                          **{k: list(v) for k, v in lists.items()}}

    def load_session(self, customer_id):
        return None


class Outbox:
    def send(self, message, token=None):
        return True


def test_every_list_kept_through_an_outage_is_capped_and_the_newest_kept(caplog):
    store = FlakyStore()
    ledger = Ledger("carol", store, Outbox(), "opened")
    n = 0
    while n < MAX_UNSAVED_HANDLED + 50:  # one message's worth per failed commit
        for _ in range(100):
            ledger.handled(n)
            ledger.count("alice", "replies")
            ledger.count_answer("faq-1", "shown")
            if n < MAX_UNSAVED_RATINGS + 5:
                ledger.rate({"session": f"s{n}", "servicer": "alice", "stars": 5})
                ledger.ended({"session": f"s{n}"})
            n += 1
        assert not ledger.commit(lambda: {"version": 1})
    store.down = False
    assert ledger.commit(lambda: {"version": 1})
    done = store.committed
    assert len(done["handled"]) == MAX_UNSAVED_HANDLED
    assert done["handled"][-1] == n - 1  # the newest are kept
    assert len(done["stats"]) == MAX_UNSAVED_STATS
    assert len(done["answer_stats"]) == MAX_UNSAVED_ANSWER_STATS
    assert len(done["ratings"]) == MAX_UNSAVED_RATINGS
    assert done["ratings"][-1]["session"] == f"s{MAX_UNSAVED_RATINGS + 4}"
    assert len(done["ended"]) == MAX_UNSAVED_ENDED
    assert "dropped" in caplog.text and "handled ids" in caplog.text
