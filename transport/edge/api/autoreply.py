"""The auto-reply: how each answer fares, and reloading the knowledge base."""

from __future__ import annotations

from typing import Any

import bottle

from actors.config import ConfigError
from transport.edge.api.context import ApiContext
from transport.http.web import ApiError


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    @app.get("/api/autoreply/stats")
    def autoreply_stats() -> dict[str, Any]:
        """How often each answer was shown, and how often a request for a person followed."""
        ctx.supervisor()
        counters = ctx.store.answer_stats()
        rows = []
        for entry in ctx.actors.autoreply.knowledge.entries:
            shown = counters.get(entry.id, {}).get("shown", 0)
            then_human = counters.get(entry.id, {}).get("then_human", 0)
            rate = then_human / shown if shown else 0.0
            rows.append((-rate, -shown, {
                "id": entry.id, "question": entry.questions[0], "shown": shown,
                "then_human": then_human, "human_rate": round(rate, 3) if shown else None}))
        rows.sort(key=lambda row: (row[0], row[1]))  # the answers that fail most first
        return {"answers": [row[2] for row in rows]}

    @app.post("/api/autoreply/reload")
    def autoreply_reload() -> dict[str, Any]:
        ctx.supervisor()
        if ctx.reload_knowledge is None:
            raise ApiError(404, "no_reload", "this server has no knowledge file to reload")
        try:
            return {"entries": ctx.reload_knowledge()}
        except ConfigError as exc:
            raise ApiError(400, "bad_knowledge", str(exc)) from None
