"""The supervisor's overview, and ratings."""

from __future__ import annotations

from typing import Any

import bottle

from actors.directory import Directory
from actors.pool import ServicerPool
from transport.edge.api.context import ApiContext, checked_id, forbidden
from transport.edge.api.servicers import summary
from transport.edge.metrics import sessions_by_mode
from transport.http.web import ApiError


def team_figures(counters: list[dict[str, int]]) -> dict[str, Any]:
    """The team's average first response (s; None before any) and missed customers,
    from each servicer's raw counters (storage/keys.py)."""
    first = sum(c.get("first_responses", 0) for c in counters)
    waited_ms = sum(c.get("first_response_ms", 0) for c in counters)
    return {"first_response_avg_secs": round(waited_ms / first / 1000, 2) if first else None,
            "missed": sum(c.get("missed", 0) for c in counters)}


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool, directory, store = ctx.actors.pool, ctx.actors.directory, ctx.store

    @app.get("/api/overview")
    def overview() -> dict[str, Any]:
        """What a supervisor's dashboard shows, in one call."""
        ctx.supervisor()
        servicers = sorted(ctx.ask(pool, ServicerPool.status).values(), key=lambda s: s["id"])
        waiting = ctx.ask(pool, ServicerPool.queue)
        open_sessions = ctx.ask(directory, Directory.session_count)
        counters = [store.servicer_stats(servicer["id"]) for servicer in servicers]
        for servicer, counted in zip(servicers, counters, strict=True):
            servicer.update(summary(counted))
        ratings = sorted((r for s in servicers for r in store.ratings(s["id"], 10)),
                         key=lambda r: -int(r.get("t", 0)))[:10]
        return {"sessions": {"open": open_sessions,
                             **sessions_by_mode(open_sessions, servicers, len(waiting))},
                "queue": {"length": len(waiting),
                          "longest_wait_secs": max((w["waited_secs"] for w in waiting),
                                                   default=0)},
                "servicers": servicers, "recent_ratings": ratings,
                "figures": team_figures(counters),
                "recent_sessions": store.recent_sessions(20),
                "traffic_per_minute": ctx.traffic() if ctx.traffic else []}

    @app.get("/api/ratings/<session_id>")
    def rating(session_id: str) -> dict[str, Any]:
        principal = ctx.authenticate()
        found = store.rating(checked_id(session_id, "session id"))
        if found is not None and not principal.is_supervisor \
                and found.get("servicer") != principal.servicer_id:
            raise forbidden()
        if found is None:
            raise ApiError(404, "no_rating", "this session has no rating")
        return found
