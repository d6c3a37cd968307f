"""The JSON API for servicers and supervisors: servicers, queue, sessions, history, stats.

Every answer is JSON; errors are ``{"error": {"code", "message"}}`` with a
4xx status. Calls into actors are asks with a time-out.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import bottle

from actors.call import ask as call
from actors.config import ConfigError, CsConfig, servicer_from_dict
from actors.directory import Directory
from actors.messages import Inbound, text_payload
from actors.pool import ServicerPool
from actors.pool.actor import SeatRefused
from actors.system import CsActors
from storage import Store
from transport.edge.api_autoreply import install_autoreply_api
from transport.edge.auth import SUPERVISOR, Principal, Tokens
from transport.edge.intake import Intake
from transport.edge.metrics import sessions_by_mode
from transport.http.web import ApiError, json_body

ASK_TIMEOUT_SECS = 5.0
# Messages typed in the console get ids of their own, below every id the IM
# server hands out (those are positive), so they never look like repeats.
_console_ids = itertools.count(-(time.time_ns() // 1000), -1)
HISTORY_MAX_LIMIT = 500
MAX_ID_CHARS = 128


def authenticator(tokens: Tokens) -> Callable[[], Principal]:
    """Who is calling: a Principal, or an ApiError(403).

    With no tokens configured at all the API is open (everyone a
    supervisor), for local use; the server logs a warning at start.
    """

    def authenticate() -> Principal:
        if not tokens.configured:
            return Principal(SUPERVISOR)
        principal = tokens.principal(bottle.request.get_header("Authorization", ""))
        if principal is None:
            raise ApiError(403, "bad_token", "missing or unknown bearer token")
        return principal

    return authenticate


def _forbidden() -> ApiError:
    return ApiError(403, "forbidden", "this token may not see or change that")


def _int_query(name: str, default: int | None, low: int, high: int) -> int | None:
    text = bottle.request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(400, f"bad_{name}", f"{name} must be a whole number {low}..{high}")
    return int(text)


def _summary(counters: dict[str, int]) -> dict[str, Any]:
    """A servicer's statistics from their raw counters (see storage/keys.py)."""
    first, rated = counters.get("first_responses", 0), counters.get("rated", 0)
    return {"sessions": counters.get("sessions", 0), "replies": counters.get("replies", 0),
            "first_response_avg_secs": (round(counters["first_response_ms"] / first / 1000, 2)
                                        if first else None),
            "rated": rated,
            "rating_avg": round(counters.get("stars", 0) / rated, 2) if rated else None}


def _id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID_CHARS or any(ord(c) < 32 for c in value):
        raise ApiError(400, "bad_id", f"{what} must be 1..{MAX_ID_CHARS} printable characters")
    return value


def install_api(app: bottle.Bottle, *, actors: CsActors, store: Store, config: CsConfig,
                intake: Intake, authenticate: Callable[[], Principal],
                reload_knowledge: Callable[[], int] | None = None,
                traffic: Callable[[], list[list[int]]] | None = None) -> None:
    pool, directory = actors.pool, actors.directory

    def ask(future: Any) -> Any:
        return future.get(timeout=ASK_TIMEOUT_SECS)

    def supervisor() -> Principal:
        principal = authenticate()
        if not principal.is_supervisor:
            raise _forbidden()
        return principal

    def self_or_supervisor(servicer_id: str) -> Principal:
        principal = authenticate()
        if not principal.is_supervisor and principal.servicer_id != servicer_id:
            raise _forbidden()
        return principal

    def customer_visible(customer_id: str) -> None:
        principal = authenticate()
        if not principal.is_supervisor and not ask(
                call(pool, ServicerPool.serves_customer, principal.servicer_id, customer_id)):
            raise _forbidden()

    def known_servicer(servicer_id: str) -> dict[str, Any]:
        found = ask(call(pool, ServicerPool.servicer, _id(servicer_id, "servicer id")))
        if found is None:
            raise ApiError(404, "no_servicer", f"no servicer {servicer_id}")
        return dict(found)

    @app.get("/api/me")
    def me() -> dict[str, Any]:
        principal = authenticate()
        return {"role": principal.role, "servicer": principal.servicer_id or None}

    @app.get("/api/servicers")
    def servicers() -> dict[str, Any]:
        principal = authenticate()
        listed = sorted(ask(call(pool, ServicerPool.status)).values(), key=lambda s: s["id"])
        if not principal.is_supervisor:
            listed = [s for s in listed if s["id"] == principal.servicer_id]
        return {"servicers": listed}

    @app.get("/api/servicers/<servicer_id>")
    def servicer(servicer_id: str) -> dict[str, Any]:
        self_or_supervisor(servicer_id)
        return known_servicer(servicer_id)

    @app.put("/api/servicers/<servicer_id>")
    def put_servicer(servicer_id: str) -> dict[str, Any]:
        supervisor()
        body = json_body()
        body["id"] = _id(servicer_id, "servicer id")
        try:
            definition = servicer_from_dict(body)
        except ConfigError as exc:
            raise ApiError(400, "bad_servicer", str(exc)) from None
        try:
            return dict(ask(call(pool, ServicerPool.upsert_servicer, definition)))
        except SeatRefused as exc:
            raise ApiError(409, "capacity_below_load", str(exc)) from None

    @app.post("/api/servicers/<servicer_id>/status")
    def set_status(servicer_id: str) -> dict[str, Any]:
        self_or_supervisor(servicer_id)
        status = json_body().get("status")
        if status not in ("on", "paused", "off"):
            raise ApiError(400, "bad_status", "status must be on, paused or off")
        known_servicer(servicer_id)
        ask(call(pool, ServicerPool.set_status, servicer_id, status))
        return known_servicer(servicer_id)

    @app.get("/api/servicers/<servicer_id>/stats")
    def stats(servicer_id: str) -> dict[str, Any]:
        self_or_supervisor(servicer_id)
        known_servicer(servicer_id)
        return {"servicer": servicer_id, **_summary(store.servicer_stats(servicer_id)),
                "recent_ratings": store.ratings(servicer_id, 10)}

    @app.get("/api/queue")
    def queue() -> dict[str, Any]:
        principal = authenticate()
        waiting = ask(call(pool, ServicerPool.queue))
        if not principal.is_supervisor:  # how long, not who
            waiting = [{k: v for k, v in w.items() if k != "customer"} for w in waiting]
        return {"queue": waiting}

    @app.get("/api/sessions")
    def sessions() -> dict[str, Any]:
        principal = authenticate()
        if principal.is_supervisor:
            return {"sessions": ask(call(directory, Directory.open_sessions))}
        mine = known_servicer(principal.servicer_id)["customers"]
        return {"sessions": mine}

    @app.post("/api/sessions/<customer_id>/transfer")
    def transfer(customer_id: str) -> dict[str, Any]:
        customer_visible(_id(customer_id, "customer id"))
        target = json_body().get("to")
        if target is not None and not isinstance(target, str):
            raise ApiError(400, "bad_target", "to must be a servicer id, or null for the queue")
        reason = ask(call(pool, ServicerPool.transfer, customer_id, target or None))
        if reason:
            raise ApiError(409, "transfer_refused", reason)
        return {"ok": True}

    def as_servicer(customer_id: str, text: str) -> dict[str, Any]:
        """Say something in the customer's Shadow chat as the calling servicer.

        It takes the same path as a message typed in a WildfireChat client, so
        the customer gets the same ``extra`` and the history the same entry.
        """
        principal = authenticate()
        if principal.is_supervisor or not principal.servicer_id:
            raise ApiError(403, "servicer_only", "only a servicer's token may reply")
        servicer = known_servicer(principal.servicer_id)
        if customer_id not in servicer["customers"]:
            raise ApiError(409, "not_your_customer", "this customer is not with you now")
        message = Inbound(next(_console_ids), principal.servicer_id,
                          config.shadow_id(customer_id), text_payload(text),
                          int(time.time() * 1000))
        intake.accept(message, for_robot=False)
        return {"ok": True}

    @app.post("/api/sessions/<customer_id>/reply")
    def reply(customer_id: str) -> dict[str, Any]:
        text = json_body().get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            raise ApiError(400, "bad_text", "text must be 1..4000 characters")
        return as_servicer(_id(customer_id, "customer id"), text)

    @app.post("/api/sessions/<customer_id>/end")
    def end(customer_id: str) -> dict[str, Any]:
        return as_servicer(_id(customer_id, "customer id"), "/end")

    @app.get("/api/overview")
    def overview() -> dict[str, Any]:
        """What a supervisor's dashboard shows, in one call."""
        supervisor()
        servicers = sorted(ask(call(pool, ServicerPool.status)).values(), key=lambda s: s["id"])
        waiting = ask(call(pool, ServicerPool.queue))
        open_sessions = ask(call(directory, Directory.session_count))
        for servicer in servicers:
            servicer.update(_summary(store.servicer_stats(servicer["id"])))
        ratings = sorted((r for s in servicers for r in store.ratings(s["id"], 10)),
                         key=lambda r: -int(r.get("t", 0)))[:10]
        return {"sessions": {"open": open_sessions,
                             **sessions_by_mode(open_sessions, servicers, len(waiting))},
                "queue": {"length": len(waiting),
                          "longest_wait_secs": max((w["waited_secs"] for w in waiting),
                                                   default=0)},
                "servicers": servicers, "recent_ratings": ratings,
                "recent_sessions": store.recent_sessions(20),
                "traffic_per_minute": traffic() if traffic else []}

    @app.get("/api/ratings/<session_id>")
    def rating(session_id: str) -> dict[str, Any]:
        principal = authenticate()
        found = store.rating(_id(session_id, "session id"))
        if found is not None and not principal.is_supervisor \
                and found.get("servicer") != principal.servicer_id:
            raise _forbidden()
        if found is None:
            raise ApiError(404, "no_rating", "this session has no rating")
        return found

    install_autoreply_api(app, autoreply=actors.autoreply, store=store, supervisor=supervisor,
                          reload_knowledge=reload_knowledge)

    @app.get("/api/customers/<customer_id>/history")
    def history(customer_id: str) -> dict[str, Any]:
        customer_visible(_id(customer_id, "customer id"))
        limit = _int_query("limit", 50, 1, HISTORY_MAX_LIMIT)
        before = _int_query("before", None, 0, 2**53)
        after = _int_query("after", None, 0, 2**53)
        order = bottle.request.query.get("order", "newest")
        if order not in ("newest", "oldest"):
            raise ApiError(400, "bad_order", "order must be newest or oldest")
        assert limit is not None
        messages = store.history_page(customer_id, limit, before, after,
                                      newest_first=order == "newest")
        return {"customer": customer_id, "order": order, "messages": messages}

