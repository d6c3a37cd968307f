"""What the servicer console needs beyond the other subjects: who a customer is, and
whom they can go to."""

from __future__ import annotations

from typing import Any

import bottle

from actors.directory import Directory
from actors.pool import ServicerPool
from actors.session import SessionActor
from transport.edge.api.context import ApiContext, checked_id
from transport.http.web import ApiError


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool, directory = ctx.actors.pool, ctx.actors.directory

    @app.get("/api/customers/<customer_id>/profile")
    def profile(customer_id: str) -> dict[str, Any]:
        """The customer's display name and portrait (as their Shadow shows them) and
        when the current session's servicer got them."""
        ctx.customer_visible(checked_id(customer_id, "customer id"))
        session = ctx.ask(directory, Directory.session, customer_id)
        if session is None:
            raise ApiError(404, "no_session", f"{customer_id} has no open session")
        state = ctx.ask(session, SessionActor.state)
        _, name, portrait = state.get("shadow") or (None, "", "")
        seated_at = state.get("seated_at") or 0
        return {"customer": customer_id, "name": name or customer_id, "portrait": portrait,
                "mode": state.get("mode"),
                "seated_at_ms": int(seated_at * 1000) if seated_at else None}

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
