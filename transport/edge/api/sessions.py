"""Open sessions: who is with whom, replies and ends from the console, transfers, history."""

from __future__ import annotations

import itertools
import time
from typing import Any

import bottle

from actors.directory import Directory
from actors.messages import Inbound, text_payload
from actors.pool import ServicerPool
from transport.edge.api.context import ApiContext, checked_id, int_query
from transport.http.web import ApiError, json_body

# Messages typed in the console get ids of their own, below every id the IM
# server hands out (those are positive), so they never look like repeats.
_console_ids = itertools.count(-(time.time_ns() // 1000), -1)
HISTORY_MAX_LIMIT = 500
MAX_REPLY_CHARS = 4000


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool, directory = ctx.actors.pool, ctx.actors.directory

    @app.get("/api/sessions")
    def sessions() -> dict[str, Any]:
        principal = ctx.authenticate()
        if principal.is_supervisor:
            return {"sessions": ctx.ask(directory, Directory.open_sessions)}
        return {"sessions": ctx.known_servicer(principal.servicer_id)["customers"]}

    @app.post("/api/sessions/<customer_id>/transfer")
    def transfer(customer_id: str) -> dict[str, Any]:
        ctx.customer_visible(checked_id(customer_id, "customer id"))
        target = json_body().get("to")
        if target is not None and not isinstance(target, str):
            raise ApiError(400, "bad_target", "to must be a servicer id, or null for the queue")
        reason = ctx.ask(pool, ServicerPool.transfer, customer_id, target or None)
        if reason:
            raise ApiError(409, "transfer_refused", reason)
        return {"ok": True}

    def as_servicer(customer_id: str, text: str) -> dict[str, Any]:
        """Say something in the customer's Shadow chat as the calling servicer.

        It takes the same path as a message typed in a WildfireChat client, so
        the customer gets the same ``extra`` and the history the same entry.
        """
        principal = ctx.authenticate()
        if principal.is_supervisor or not principal.servicer_id:
            raise ApiError(403, "servicer_only", "only a servicer's token may reply")
        servicer = ctx.known_servicer(principal.servicer_id)
        if customer_id not in servicer["customers"]:
            raise ApiError(409, "not_your_customer", "this customer is not with you now")
        message = Inbound(next(_console_ids), principal.servicer_id,
                          ctx.config.shadow_id(customer_id), text_payload(text),
                          int(time.time() * 1000))
        ctx.intake.accept(message, for_robot=False)
        return {"ok": True}

    @app.post("/api/sessions/<customer_id>/reply")
    def reply(customer_id: str) -> dict[str, Any]:
        text = json_body().get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise ApiError(400, "bad_text", f"text must be 1..{MAX_REPLY_CHARS} characters")
        return as_servicer(checked_id(customer_id, "customer id"), text)

    @app.post("/api/sessions/<customer_id>/end")
    def end(customer_id: str) -> dict[str, Any]:
        return as_servicer(checked_id(customer_id, "customer id"), "/end")

    @app.get("/api/customers/<customer_id>/history")
    def history(customer_id: str) -> dict[str, Any]:
        ctx.customer_visible(checked_id(customer_id, "customer id"))
        limit = int_query("limit", 50, 1, HISTORY_MAX_LIMIT)
        before = int_query("before", None, 0, 2**53)
        after = int_query("after", None, 0, 2**53)
        order = bottle.request.query.get("order", "newest")
        if order not in ("newest", "oldest"):
            raise ApiError(400, "bad_order", "order must be newest or oldest")
        assert limit is not None
        messages = ctx.store.history_page(customer_id, limit, before, after,
                                          newest_first=order == "newest")
        return {"customer": customer_id, "order": order, "messages": messages}
