"""Paging a customer's history inside Redis.

A history list holds up to HISTORY_MAX_ENTRIES msgpack entries in strictly
increasing ``t`` (actors/session/voice.py makes it so, to serve as a cursor).
The console polls every open customer every 1.5 s for what is newer than
what it has; reading and decoding the whole list for that cost ~2,000
decodes per poll. The script below finds the cursors by binary search
(about 11 entries decoded by Redis's cmsgpack for 2,000) and returns only
the page, so a poll with nothing new moves no entries at all.
"""

from __future__ import annotations

from typing import Any

# Redis's cmsgpack cannot read msgpack's bin type (measured on Redis 6.2:
# "Bad data format in input"); entries hold JSON-born values, so that never
# happens today, but if it does the script answers 'undecodable' and the
# caller falls back to reading the (capped) list itself.
PAGE_SCRIPT = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local n = redis.call('LLEN', key)
local function t_at(i)
  local ok, entry = pcall(cmsgpack.unpack, redis.call('LINDEX', key, i))
  if not ok or type(entry) ~= 'table' then error('undecodable') end
  return tonumber(entry['t']) or 0
end
-- The first index in [lo, n) whose entry's t passes the test (t only grows).
local function first(lo, test)
  local hi = n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if test(t_at(mid)) then hi = mid else lo = mid + 1 end
  end
  return lo
end
local ok, page = pcall(function()
  local lo, hi = 0, n  -- hi exclusive
  if ARGV[3] ~= '' then
    local after = tonumber(ARGV[3])
    lo = first(0, function(t) return t > after end)
  end
  if ARGV[2] ~= '' then
    local before = tonumber(ARGV[2])
    hi = first(lo, function(t) return t >= before end)
  end
  if hi <= lo then return {} end
  if ARGV[4] == 'tail' then
    return redis.call('LRANGE', key, math.max(lo, hi - limit), hi - 1)
  end
  return redis.call('LRANGE', key, lo, math.min(hi, lo + limit) - 1)
end)
if not ok then return 'undecodable' end
return page
"""


def page_args(limit: int, before_ms: int | None, after_ms: int | None,
              newest_first: bool) -> list[Any]:
    """The script's arguments: the page comes from the tail (the newest, or
    the page just before ``before_ms``) or from the head (just after ``after_ms``)."""
    tail = newest_first or (before_ms is not None and after_ms is None)
    return [limit, "" if before_ms is None else before_ms,
            "" if after_ms is None else after_ms, "tail" if tail else "head"]


def filter_page(entries: list[dict[str, Any]], limit: int, before_ms: int | None,
                after_ms: int | None, newest_first: bool) -> list[dict[str, Any]]:
    """The same page from the whole list, oldest first (the fallback)."""
    picked = [e for e in entries
              if (before_ms is None or int(e.get("t", 0)) < before_ms)
              and (after_ms is None or int(e.get("t", 0)) > after_ms)]
    if page_args(limit, before_ms, after_ms, newest_first)[3] == "tail":
        return picked[-limit:]
    return picked[:limit]



def in_message_order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries oldest first, each late arrival moved to just before the entry
    it names in ``ahead_of`` (actors/session/arrivals.py) when that entry is
    among them; transport/edge/static/console.js applies the same rule.

    Linear: the late ones are grouped under the entry they precede, and each
    entry is preceded by its group (whose members may have groups of their own).
    """
    arrived = sorted(entries, key=lambda e: _int(e.get("t")))
    present = {_int(e.get("t")) for e in arrived}
    before: dict[int, list[dict[str, Any]]] = {}
    roots = []
    for entry in arrived:
        ahead_of = _int(entry.get("ahead_of"))
        # Only an earlier entry can be overtaken: a bad value cannot make a cycle.
        if ahead_of in present and 0 < ahead_of < _int(entry.get("t")):
            before.setdefault(ahead_of, []).append(entry)
        else:
            roots.append(entry)
    if not before:
        return arrived
    shown: list[dict[str, Any]] = []
    for root in roots:
        stack = [(root, False)]
        while stack:
            entry, placed = stack.pop()
            if placed:
                shown.append(entry)
                continue
            stack.append((entry, True))
            stack.extend((late, False) for late in reversed(before.get(_int(entry.get("t")), ())))
    return shown


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
