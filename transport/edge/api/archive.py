"""Ended sessions: by date range for a supervisor, by customer for the console's panel."""

from __future__ import annotations

import time
from typing import Any

import bottle

from storage.archive import SessionArchive
from transport.edge.api.context import ApiContext, checked_id, int_query
from transport.http.web import ApiError

DAY_MS = 24 * 3600 * 1000
MAX_MS = 2**53  # JavaScript's largest exact integer: what a page can send
ENDED_LIMIT_MAX = 500  # a page of a day's sessions; a wider range narrows or pages
CUSTOMER_LIMIT_MAX = 50  # storage.keys.CUSTOMER_SESSIONS_KEPT: no more is kept


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    archive = SessionArchive.of(ctx.store)

    @app.get("/api/sessions/ended")
    def ended() -> dict[str, Any]:
        """Sessions that ended in [from, to] (ms; default the last day), newest first,
        with how many ended in all and the satisfaction over the range."""
        ctx.supervisor()
        to_ms = int_query("to", None, 0, MAX_MS)
        from_ms = int_query("from", None, 0, MAX_MS)
        limit = int_query("limit", 100, 1, ENDED_LIMIT_MAX)
        assert limit is not None
        to_ms = int(time.time() * 1000) if to_ms is None else to_ms
        from_ms = max(0, to_ms - DAY_MS) if from_ms is None else from_ms
        if from_ms > to_ms:
            raise ApiError(400, "bad_range", "from must not be after to")
        return {"from": from_ms, "to": to_ms,
                "sessions": archive.ended_between(from_ms, to_ms, limit),
                "count": archive.ended_count(from_ms, to_ms),
                "satisfaction": archive.satisfaction(from_ms, to_ms)}

    @app.get("/api/customers/<customer_id>/sessions")
    def customer_sessions(customer_id: str) -> dict[str, Any]:
        """The customer's past sessions, newest first, with their ratings."""
        ctx.customer_visible(checked_id(customer_id, "customer id"))
        limit = int_query("limit", 20, 1, CUSTOMER_LIMIT_MAX)
        assert limit is not None
        return {"customer": customer_id,
                "sessions": archive.customer_sessions(customer_id, limit)}
