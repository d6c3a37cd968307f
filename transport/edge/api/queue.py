"""The queue of customers waiting for a person."""

from __future__ import annotations

from typing import Any

import bottle

from actors.pool import ServicerPool
from storage.customers import CustomerStore
from transport.edge.api.context import MAX_ID_CHARS, ApiContext, checked_id
from transport.http.web import ApiError, json_body


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    pool = ctx.actors.pool

    @app.get("/api/queue")
    def queue() -> dict[str, Any]:
        principal = ctx.authenticate()
        waiting = ctx.ask(pool, ServicerPool.queue)
        if not principal.is_supervisor:  # how long, not who
            waiting = [{k: v for k, v in w.items() if k != "customer"} for w in waiting]
        return {"queue": waiting}

    @app.put("/api/customers/<customer_id>/priority")
    def customer_priority(customer_id: str) -> dict[str, Any]:
        """A supervisor sets a customer's priority for every request of theirs (a VIP),
        and moves them now if they wait; ``null`` clears it."""
        ctx.supervisor()
        customer_id = checked_id(customer_id, "customer id")
        priority = json_body().get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(
                priority, int) or not 0 <= priority <= 9):
            raise ApiError(400, "bad_priority", "priority must be a whole number 0..9, or null")
        CustomerStore.of(ctx.store).set_priority(customer_id, priority)
        waiting = ctx.ask(pool, ServicerPool.set_priority, customer_id, priority or 0)
        return {"customer": customer_id, "priority": priority, "waiting": waiting}

    @app.put("/api/queue/<customer_id>")
    def reprioritise(customer_id: str) -> dict[str, Any]:
        """A supervisor moves a waiting customer by priority (0-9; higher first)."""
        ctx.supervisor()
        priority = json_body().get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
            raise ApiError(400, "bad_priority", "priority must be a whole number 0..9")
        if not ctx.ask(pool, ServicerPool.set_priority, checked_id(customer_id, "customer id"),
                       priority):
            raise ApiError(404, "not_waiting", f"{customer_id} is not in the queue")
        return {"queue": ctx.ask(pool, ServicerPool.queue)}

    @app.post("/api/queue/take")
    def take() -> dict[str, Any]:
        """The calling servicer takes the first customer waiting for them, even when
        full (their choice); 404 ``queue_empty`` when nobody waits for them."""
        principal = ctx.authenticate()
        if principal.is_supervisor or not principal.servicer_id:
            raise ApiError(403, "servicer_only", "only a servicer's token may take a customer")
        customer = ctx.ask(pool, ServicerPool.take_next, principal.servicer_id)
        return {"customer": customer, "servicer": principal.servicer_id}

    @app.post("/api/queue/<customer_id>/assign")
    def assign(customer_id: str) -> dict[str, Any]:
        """A supervisor seats a waiting customer with a servicer on duty or paused,
        even a full one."""
        ctx.supervisor()
        customer_id = checked_id(customer_id, "customer id")
        servicer = json_body().get("servicer")
        if not isinstance(servicer, str) or not servicer or len(servicer) > MAX_ID_CHARS:
            raise ApiError(400, "bad_servicer", "servicer must be a servicer id")
        ctx.ask(pool, ServicerPool.assign_waiting, customer_id, servicer)
        return {"customer": customer_id, "servicer": servicer}
