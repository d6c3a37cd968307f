"""A session's commit: the Lua script and the packing of its arguments.

Everything a session message changed lands in one script call, so a commit
is all or nothing as far as Redis allows: a Lua script is not rolled back
when it fails half-way, so the script checks everything that can fail
(argument counts, key types, counter fields) before its first write, and
everything that can fail in Python (encoding) happens before the call.

Lua's ``unpack`` stops at about 8,000 values ("too many results to unpack",
measured on Redis 6.2), and a session's unsaved lists grow while Redis is
down; every variadic command is therefore sent in chunks of UNPACK_CHUNK
values, and every list one commit carries is capped (the loss logged).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from storage.codec import PACK_ERRORS, pack
from storage.keys import (
    CUSTOMER_SESSIONS_KEPT,
    ENDED_SESSIONS_KEPT,
    HISTORY_MAX_ENTRIES,
    RATINGS_KEPT,
    RECENT_SESSIONS_KEPT,
    Keys,
)

log = logging.getLogger(__name__)

UNPACK_CHUNK = 1000  # values per variadic command; even, so no pair is split

# Caps on what one commit carries. Each is far above what one message does
# (a handful of entries); they bite only after a long outage, when a session
# hands over everything it kept.
MAX_COMMIT_HISTORY = HISTORY_MAX_ENTRIES  # more would be trimmed at once anyway
MAX_COMMIT_OUTBOUND = 10_000  # dropped ones are still sent, just not journaled
MAX_COMMIT_HANDLED = 10_000  # left ones replay after a restart (sessions de-duplicate)
MAX_COMMIT_COUNTERS = 1_000  # distinct (key, field) after adding up increments
MAX_COMMIT_RATINGS = 100  # a session is rated once; this is many outages' worth
MAX_COMMIT_ENDED = RECENT_SESSIONS_KEPT  # only that many are kept anyway

_FIXED_ARGS = 14  # mode, snapshot, customer, three keeps, six counts, two keeps
# session, open set, history, outbound, inbound, recent sessions; after the
# counters' and ratings' keys, the archive's four (storage/archive.py)
_FIXED_KEYS = 10
_PER_ENDED = 4  # packed summary, end (ms), session id, stars (0: none)

COMMIT_SCRIPT = """
local CHUNK = %(chunk)d
local function bad(why) return redis.error_reply('ERR commit refused: ' .. why) end
if #ARGV < 14 then return bad('too few arguments') end
local mode = ARGV[1]
if mode ~= 'save' and mode ~= 'close' then return bad('mode') end
local n = {}
for k = 4, 14 do
  local v = tonumber(ARGV[k])
  if v == nil or v < 0 or v ~= math.floor(v) then return bad('number at ' .. k) end
  n[k] = v
end
local keep_h, keep_r, keep_e = n[4], n[5], n[6]
local nh, no, nd, nc, nr, ne = n[7], n[8], n[9], n[10], n[11], n[12]
local keep_a, keep_c = n[13], n[14]
if keep_h < 1 or keep_r < 1 or keep_e < 1 or keep_a < 1 or keep_c < 1 then
  return bad('keep')
end
if #ARGV ~= 14 + nh + 2 * no + nd + 2 * nc + nr + 4 * ne then return bad('argument count') end
if #KEYS ~= 10 + nc + 2 * nr then return bad('key count') end
local ak = 6 + nc + 2 * nr  -- the archive's keys follow the counters' and ratings'
local function is(key, want)
  local t = redis.call('TYPE', key)['ok']
  return t == 'none' or t == want
end
-- SET and DEL take a key of any type; the rest fail on the wrong one.
if not (is(KEYS[2], 'set') and (nh == 0 or is(KEYS[3], 'list'))
        and (no == 0 or is(KEYS[4], 'hash')) and (nd == 0 or is(KEYS[5], 'hash'))
        and (ne == 0 or (is(KEYS[6], 'list') and is(KEYS[ak + 1], 'zset')
                         and is(KEYS[ak + 2], 'zset') and is(KEYS[ak + 3], 'zset')
                         and is(KEYS[ak + 4], 'list')))) then
  return bad('a key holds the wrong type')
end
local counters = 15 + nh + 2 * no + nd
for k = 0, nc - 1 do
  local key, field, inc = KEYS[7 + k], ARGV[counters + 2 * k], ARGV[counters + 2 * k + 1]
  if not is(key, 'hash') then return bad('counter key type') end
  if not string.match(inc, '^%%-?%%d+$') then return bad('increment') end
  local now = redis.call('HGET', key, field)
  if now and not string.match(now, '^%%-?%%d+$') then return bad('counter field') end
end
for k = 0, nr - 1 do
  if not (is(KEYS[7 + nc + 2 * k], 'string') and is(KEYS[8 + nc + 2 * k], 'list')) then
    return bad('rating key type')
  end
end
local summaries = #ARGV - 4 * ne + 1
for k = summaries, #ARGV, 4 do
  if tonumber(ARGV[k + 1]) == nil or tonumber(ARGV[k + 3]) == nil then
    return bad('ended summary numbers')
  end
end
-- Nothing below can fail on good keys: the writes start here.
local function chunked(cmd, key, first, last)
  for s = first, last, CHUNK do
    redis.call(cmd, key, unpack(ARGV, s, math.min(s + CHUNK - 1, last)))
  end
end
if mode == 'save' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
else
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
end
local i = 15
if nh > 0 then
  chunked('RPUSH', KEYS[3], i, i + nh - 1)
  redis.call('LTRIM', KEYS[3], -keep_h, -1)
end
i = i + nh
chunked('HSET', KEYS[4], i, i + 2 * no - 1); i = i + 2 * no
chunked('HDEL', KEYS[5], i, i + nd - 1); i = i + nd
for k = 0, nc - 1 do
  redis.call('HINCRBY', KEYS[7 + k], ARGV[i], ARGV[i + 1]); i = i + 2
end
for k = 0, nr - 1 do
  -- The same rating sent again (see the summaries below) is listed once.
  if redis.call('GET', KEYS[7 + nc + 2 * k]) ~= ARGV[i] then
    redis.call('SET', KEYS[7 + nc + 2 * k], ARGV[i])
    redis.call('RPUSH', KEYS[8 + nc + 2 * k], ARGV[i])
    redis.call('LTRIM', KEYS[8 + nc + 2 * k], -keep_r, -1)
  end
  i = i + 1
end
for k = 0, ne - 1 do
  local packed, closed, session, stars = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  -- A summary sent again (its commit's reply was lost after the script ran)
  -- is already in the archive: the lists get it once.
  if redis.call('ZADD', KEYS[ak + 1], closed, packed) == 1 then
    redis.call('LPUSH', KEYS[6], packed)
    redis.call('LPUSH', KEYS[ak + 4], packed)
  end
  if stars > 0 then redis.call('ZADD', KEYS[ak + 2], closed, session) end
  if stars >= 4 then redis.call('ZADD', KEYS[ak + 3], closed, session) end
  i = i + 4
end
if ne > 0 then
  redis.call('LTRIM', KEYS[6], 0, keep_e - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[ak + 1], 0, -keep_a - 1)
  -- The rated and satisfied sets end where the archive now begins, not at a
  -- count of their own: trimmed by count, the satisfied (a subset) reached
  -- further back than the rated, and an old range's share came out over 1.
  local oldest = redis.call('ZRANGE', KEYS[ak + 1], 0, 0, 'WITHSCORES')[2]
  if oldest then
    for k = 2, 3 do redis.call('ZREMRANGEBYSCORE', KEYS[ak + k], '-inf', '(' .. oldest) end
  end
  redis.call('LTRIM', KEYS[ak + 4], 0, keep_c - 1)
end
return 1
""" % {"chunk": UNPACK_CHUNK}


class CommitCall(NamedTuple):
    keys: list[str]
    args: list[Any]


T = TypeVar("T")


def _capped(customer_id: str, what: str, items: list[T], cap: int) -> list[T]:
    """The newest ``cap`` items; the rest are logged as lost."""
    if len(items) <= cap:
        return items
    log.error("session %s: commit carries %d %s, over the cap of %d; the oldest %d dropped",
              customer_id, len(items), what, cap, len(items) - cap)
    return items[-cap:]


def _packed(customer_id: str, what: str, values: Iterable[Any]) -> list[bytes]:
    """Each value encoded; one that cannot be is logged and left out (a
    poisoned entry kept for retry would fail every later commit)."""
    packed = []
    for value in values:
        try:
            packed.append(pack(value))
        except PACK_ERRORS:
            log.exception("session %s: one of its %s could not be encoded; dropped",
                          customer_id, what)
    return packed


def commit_call(keys: Keys, customer_id: str, snapshot: Mapping[str, Any] | None,
                history: Iterable[Mapping[str, Any]], outbound: Iterable[tuple[str, Any]],
                handled: Iterable[int], stats: Iterable[tuple[str, str, int]],
                ratings: Iterable[Mapping[str, Any]], answer_stats: Iterable[tuple[str, str]],
                ended: Iterable[Mapping[str, Any]]) -> CommitCall:
    """The keys and arguments of one commit, every value already encoded.

    Raises:
        TypeError, ValueError, OverflowError: the snapshot cannot be encoded
            (nothing is written).
    """
    packed_snapshot = pack(dict(snapshot)) if snapshot is not None else b""
    entries = _packed(customer_id, "history entries",
                      _capped(customer_id, "history entries", [dict(e) for e in history],
                              MAX_COMMIT_HISTORY))
    records: list[tuple[str, bytes]] = []
    for token, record in _capped(customer_id, "outbound records", list(outbound),
                                 MAX_COMMIT_OUTBOUND):
        try:
            records.append((str(token), pack(record)))
        except PACK_ERRORS:
            log.exception("session %s: outbound record %s could not be encoded; not journaled",
                          customer_id, token)
    done = [str(int(m)) for m in _capped(customer_id, "handled ids", list(handled),
                                         MAX_COMMIT_HANDLED)]
    # Increments to one field add up: the count of fields is what a long
    # outage cannot grow (a few servicers and answers per session).
    totals: Counter[tuple[str, str]] = Counter()
    for servicer_id, counter, increment in stats:
        totals[(keys.stats(servicer_id), counter)] += int(increment)
    for entry_id, counter in answer_stats:
        totals[(keys.answers, f"{entry_id}:{counter}")] += 1
    counters = _capped(customer_id, "counters", list(totals.items()), MAX_COMMIT_COUNTERS)
    kept_ratings: list[tuple[str, str, bytes]] = []
    for rating in _capped(customer_id, "ratings", [dict(r) for r in ratings],
                          MAX_COMMIT_RATINGS):
        if "session" not in rating or "servicer" not in rating:
            log.error("session %s: a rating without session or servicer; dropped", customer_id)
            continue
        kept_ratings.extend((str(rating["session"]), str(rating["servicer"]), packed)
                            for packed in _packed(customer_id, "ratings", [rating]))
    summaries: list[tuple[bytes, int, str, int]] = []
    for summary in _capped(customer_id, "ended summaries", [dict(s) for s in ended],
                           MAX_COMMIT_ENDED):
        summaries.extend((packed, int(summary.get("closed") or 0),
                          str(summary.get("session", "")), int(summary.get("stars") or 0))
                         for packed in _packed(customer_id, "ended summaries", [summary]))

    args: list[Any] = ["save" if snapshot is not None else "close", packed_snapshot,
                       customer_id, HISTORY_MAX_ENTRIES, RATINGS_KEPT, RECENT_SESSIONS_KEPT,
                       len(entries), len(records), len(done), len(counters),
                       len(kept_ratings), len(summaries), ENDED_SESSIONS_KEPT,
                       CUSTOMER_SESSIONS_KEPT]
    args += entries
    for token, packed in records:
        args += [token, packed]
    args += done
    for (_, field), increment in counters:
        args += [field, increment]
    args += [packed for _, _, packed in kept_ratings]
    for packed, closed, session_id, stars in summaries:
        args += [packed, closed, session_id, stars]
    call_keys = [keys.session(customer_id), keys.open_sessions, keys.history(customer_id),
                 keys.outbound, keys.inbound, keys.recent_sessions]
    call_keys += [key for (key, _), _ in counters]
    for session_id, servicer_id, _ in kept_ratings:
        call_keys += [keys.rating(session_id), keys.ratings(servicer_id)]
    call_keys += [keys.ended_sessions, keys.rated_sessions, keys.satisfied_sessions,
                  keys.customer_sessions(customer_id)]
    assert len(args) == _FIXED_ARGS + len(entries) + 2 * len(records) + len(done) \
        + 2 * len(counters) + len(kept_ratings) + _PER_ENDED * len(summaries)
    assert len(call_keys) == _FIXED_KEYS + len(counters) + 2 * len(kept_ratings)
    return CommitCall(call_keys, args)
