"""Every Redis key wildfire-cs uses, defined once.

All keys start with a prefix (``cs`` by default) so that several deployments,
or several tests, can share one Redis. Ids are passed to Redis as binary-safe
arguments, never interpolated into commands or scan patterns, so an id with
``:`` or ``*`` in it can only ever name its own key.

{p}:session:{customer}   string  msgpack snapshot of an open session; deleted on close
{p}:sessions:open        set     customer ids with an open session; member removed on close
{p}:shadows              hash    shadow id -> msgpack {customer}; kept
{p}:history:{customer}   list    msgpack history entries, oldest first; trimmed to
                                 HISTORY_MAX_ENTRIES
{p}:pool                 string  msgpack snapshot of the servicer pool; kept
{p}:inbound              hash    message id -> msgpack callback accepted but not yet
                                 handled; deleted in the same transaction that saves the
                                 session which handled it
{p}:outbound             hash    token -> msgpack message for the IM server, until the IM
                                 server answered; tokens are chosen by the sender, so a
                                 write whose reply was lost can still be confirmed
{p}:stats:{servicer}     hash    counters: sessions, replies, first_response_ms,
                                 rated, stars; kept
{p}:ratings:{servicer}   list    msgpack ratings, oldest first; trimmed to RATINGS_KEPT
{p}:rating:{session id}  string  msgpack rating of one session; kept
{p}:answers              hash    "<entry id>:shown" and "<entry id>:then_human" counters
                                 of the auto-reply's answers; kept
{p}:autoreply:variants  hash    msgpack [entry id, question] -> ms taught: variants a
                                 supervisor added through the API; kept (laid on the file)
{p}:autoreply:entries   hash    entry id -> msgpack {id, questions, answer}: entries created
                                 through the API; kept
{p}:autoreply:unanswered hash   question's normal form -> msgpack {question, reason,
                                 last_ms}: the bot could not place it, or a person was
                                 asked for after it; until taught or dismissed
{p}:autoreply:unanswered-counts  hash  same fields -> how often it was asked; same lifetime
{p}:autoreply:unanswered-replies hash  same fields -> the servicer's first answer after the
                                 hand-off (text, cut to 2,000 characters); same lifetime
{p}:autoreply:conversations hash "total", "bot_only": conversations in which the bot was
                                 asked something, and those among them that ended without
                                 a person; kept
{p}:last-servicer        hash    customer id -> the servicer who served them last (sticky
                                 allocation); one field per customer ever seated; kept
{p}:priority            hash    customer id -> queue priority 0-9 a supervisor set for
                                 every request of theirs (PUT /api/customers/<id>/priority);
                                 kept
{p}:supervisors         set     user ids of supervisors added through the API (beside the
                                 configuration's); kept
{p}:canned              hash    canned reply name -> text, shared by the team; kept
{p}:canned:{servicer}   hash    a servicer's own canned replies (they win over shared); kept
{p}:recent-sessions      list    msgpack summaries of ended sessions, newest first;
                                 trimmed to RECENT_SESSIONS_KEPT
{p}:sessions:ended       zset    msgpack summaries of ended sessions, scored by their end
                                 (ms): the archive a date range reads; the newest
                                 ENDED_SESSIONS_KEPT are kept
{p}:sessions:rated       zset    session ids of ended sessions with a rating, scored by their
                                 end (ms); ZCOUNT gives the rated in a range; trimmed
                                 to the span sessions:ended still holds
{p}:sessions:satisfied   zset    the same for ratings of 4 or 5 stars; the same span
{p}:customer-sessions:{customer} list  msgpack summaries of the customer's ended
                                 sessions, newest first; trimmed to CUSTOMER_SESSIONS_KEPT;
                                 kept (like the customer's history)
{p}:nonce:{nonce}        string  "1": an App Server request nonce was used; expires with
                                 the signature window
{p}:seen:{message id}    string  "1": a callback's messageId was accepted; expires after
                                 SEEN_TTL_SECS
{p}:bad                  hash    "<key>" or "<key>\\x1f<field>" -> msgpack {key, field, raw
                                 (the stored bytes), when (ms), why} of a record restore
                                 could not use, moved here from where it was
                                 (Store.set_aside); kept for inspection until deleted by hand
"""

from __future__ import annotations

# A customer's full history is rarely read past the last few hundred lines;
# capping keeps one chatty customer from growing a list without bound.
HISTORY_MAX_ENTRIES = 2000

# The IM server never retries a callback; repeats come from proxies and
# replays within seconds or minutes. Ten minutes of ids costs ~100 bytes per
# message; older repeats are still caught by the session's own recent ids.
SEEN_TTL_SECS = 600
RATINGS_KEPT = 1000
RECENT_SESSIONS_KEPT = 100
# The archive a dashboard's date range reads: its three sorted sets take
# ~400 bytes per rated session (measured: benchmarks/archive_memory.py), so
# 100,000 sessions, weeks of a busy team, stay under ~40 MB; older ones leave
# the range queries (their ratings, history and customer lists stay).
ENDED_SESSIONS_KEPT = 100_000
# A customer panel shows the past few sessions; 50 is years of a regular's
# (~200 bytes each, so at most ~10 KB per customer).
CUSTOMER_SESSIONS_KEPT = 50
# The unanswered inbox is read by a person; past the 500 most frequent
# questions a longer list is not read, so the API shows no more.
UNANSWERED_KEPT = 500


class Keys:
    """Builds the keys for one prefix."""

    def __init__(self, prefix: str = "cs") -> None:
        self.prefix = prefix
        self.open_sessions = f"{prefix}:sessions:open"
        self.shadows = f"{prefix}:shadows"
        self.pool = f"{prefix}:pool"
        self.inbound = f"{prefix}:inbound"
        self.outbound = f"{prefix}:outbound"
        self.answers = f"{prefix}:answers"
        self.recent_sessions = f"{prefix}:recent-sessions"
        self.last_servicer = f"{prefix}:last-servicer"
        self.priorities = f"{prefix}:priority"
        self.supervisors = f"{prefix}:supervisors"
        self.bad = f"{prefix}:bad"
        self.taught_variants = f"{prefix}:autoreply:variants"
        self.taught_entries = f"{prefix}:autoreply:entries"
        self.unanswered = f"{prefix}:autoreply:unanswered"
        self.unanswered_counts = f"{prefix}:autoreply:unanswered-counts"
        self.unanswered_replies = f"{prefix}:autoreply:unanswered-replies"
        self.conversations = f"{prefix}:autoreply:conversations"
        self.ended_sessions = f"{prefix}:sessions:ended"
        self.rated_sessions = f"{prefix}:sessions:rated"
        self.satisfied_sessions = f"{prefix}:sessions:satisfied"

    def canned(self, servicer_id: str | None) -> str:
        """The shared canned replies (None), or one servicer's own."""
        return f"{self.prefix}:canned" + (f":{servicer_id}" if servicer_id else "")

    def session(self, customer_id: str) -> str:
        return f"{self.prefix}:session:{customer_id}"

    def history(self, customer_id: str) -> str:
        return f"{self.prefix}:history:{customer_id}"

    def seen(self, message_id: int) -> str:
        return f"{self.prefix}:seen:{message_id}"

    def stats(self, servicer_id: str) -> str:
        return f"{self.prefix}:stats:{servicer_id}"

    def ratings(self, servicer_id: str) -> str:
        return f"{self.prefix}:ratings:{servicer_id}"

    def rating(self, session_id: str) -> str:
        return f"{self.prefix}:rating:{session_id}"

    def customer_sessions(self, customer_id: str) -> str:
        return f"{self.prefix}:customer-sessions:{customer_id}"

    def nonce(self, nonce: str) -> str:
        return f"{self.prefix}:nonce:{nonce}"
