"""Servicers: who they are, their status, their statistics."""

from __future__ import annotations

from typing import Any

import bottle

from actors.config import ConfigError, servicer_from_dict
from actors.pool import ServicerPool
from transport.edge.api.context import ApiContext, checked_id
from transport.http.web import ApiError, json_body


def summary(counters: dict[str, int]) -> dict[str, Any]:
    """A servicer's statistics from their raw counters (see storage/keys.py)."""
    first, rated = counters.get("first_responses", 0), counters.get("rated", 0)
    return {"sessions": counters.get("sessions", 0), "replies": counters.get("replies", 0),
            "missed": counters.get("missed", 0),
            "first_response_avg_secs": (round(counters["first_response_ms"] / first / 1000, 2)
                                        if first else None),
            "rated": rated,
            "rating_avg": round(counters.get("stars", 0) / rated, 2) if rated else None}


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool, store = ctx.actors.pool, ctx.store

    @app.get("/api/me")
    def me() -> dict[str, Any]:
        principal = ctx.authenticate()
        return {"role": principal.role, "servicer": principal.servicer_id or None}

    @app.get("/api/servicers")
    def servicers() -> dict[str, Any]:
        principal = ctx.authenticate()
        listed = sorted(ctx.ask(pool, ServicerPool.status).values(), key=lambda s: s["id"])
        if not principal.is_supervisor:
            listed = [s for s in listed if s["id"] == principal.servicer_id]
        return {"servicers": listed}

    @app.get("/api/servicers/<servicer_id>")
    def servicer(servicer_id: str) -> dict[str, Any]:
        ctx.self_or_supervisor(servicer_id)
        return ctx.known_servicer(servicer_id)

    @app.put("/api/servicers/<servicer_id>")
    def put_servicer(servicer_id: str) -> dict[str, Any]:
        ctx.supervisor()
        body = json_body()
        body["id"] = checked_id(servicer_id, "servicer id")
        try:
            definition = servicer_from_dict(body)
        except ConfigError as exc:
            raise ApiError(400, "bad_servicer", str(exc)) from None
        return dict(ctx.ask(pool, ServicerPool.upsert_servicer, definition))

    @app.post("/api/servicers/<servicer_id>/status")
    def set_status(servicer_id: str) -> dict[str, Any]:
        ctx.self_or_supervisor(servicer_id)
        status = json_body().get("status")
        if status not in ("on", "paused", "off"):
            raise ApiError(400, "bad_status", "status must be on, paused or off")
        ctx.known_servicer(servicer_id)
        ctx.ask(pool, ServicerPool.set_status, servicer_id, status)
        return ctx.known_servicer(servicer_id)

    @app.get("/api/servicers/<servicer_id>/stats")
    def stats(servicer_id: str) -> dict[str, Any]:
        ctx.self_or_supervisor(servicer_id)
        ctx.known_servicer(servicer_id)
        return {"servicer": servicer_id, **summary(store.servicer_stats(servicer_id)),
                "recent_ratings": store.ratings(servicer_id, 10)}
