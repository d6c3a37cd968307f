"""What the servicer console needs beyond the other subjects: whom a customer can go to."""

from __future__ import annotations

from typing import Any

import bottle

from actors.pool import ServicerPool
from transport.edge.api.context import ApiContext


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool = ctx.actors.pool

    @app.get("/api/transfer-targets")
    def transfer_targets() -> dict[str, Any]:
        """Servicers on duty with room, other than the caller: the console's transfer
        picker. Names and load only, never whom they serve."""
        principal = ctx.authenticate()
        listed = sorted(ctx.ask(pool, ServicerPool.status).values(), key=lambda s: s["id"])
        return {"servicers": [
            {"id": s["id"], "name": s["name"], "portrait": s["portrait"],
             "load": s["load"], "capacity": s["capacity"]}
            for s in listed
            if s["on_duty"] and s["load"] < s["capacity"] and s["id"] != principal.servicer_id]}
