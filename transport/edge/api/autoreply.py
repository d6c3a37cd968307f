"""The auto-reply: how each answer fares, reloading the knowledge base, the
inbox of what it missed, and teaching it (issue 24).

Teaching writes the lesson to Redis first, then swaps in an engine built
with it: the Redis write is the only point that yields, so two lessons
taught at once are each applied to the lessons in memory at that moment,
and neither is lost. Building the engine takes ~10 ms for the sample
knowledge base and 100-300 ms for 200 entries (benchmarks/autoreply_speed.py),
on the event loop: fine for a supervisor's click, not for a bulk import.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import bottle
import yaml

from actors.autoreply.engine import ANSWER, HUMAN, AutoReply
from actors.autoreply.inbox import THEN_HUMAN, question_key
from actors.autoreply.knowledge import (
    HUMAN_LABEL,
    NONE_LABEL,
    entry_from_dict,
    entry_to_dict,
    knowledge_to_dict,
)
from actors.autoreply.lessons import Lessons
from actors.config import ConfigError
from storage.keys import UNANSWERED_KEPT
from storage.teaching import TeachingStore, Unanswered
from transport.edge.api.context import ApiContext
from transport.http.web import ApiError, json_body

log = logging.getLogger(__name__)

QUESTION_MAX_CHARS = 300  # the engine reads no further (engine.MAX_QUESTION_CHARS)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Ids of entries created through the API: they go into URLs and YAML keys.
_ENTRY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def load_lessons(autoreply: AutoReply, teaching: TeachingStore) -> None:
    """Lay what was taught before a restart on the knowledge base. A lesson
    that no longer validates is logged and skipped, never fatal."""
    try:
        items, variants = teaching.lessons()
    except Exception:
        log.exception("taught lessons could not be read; starting without them")
        return
    lessons = Lessons(variants=tuple(variants))
    for item in items:
        try:
            lessons = lessons.with_entry(entry_from_dict(item, "taught entry"))
        except ConfigError as exc:
            log.warning("taught entry skipped: %s", exc)
    autoreply.teach(lambda _: lessons)


def _question(body: dict[str, Any]) -> str:
    question = body.get("question")
    if not isinstance(question, str) or not question.strip() \
            or len(question) > QUESTION_MAX_CHARS or _CONTROL.search(question):
        raise ApiError(400, "bad_question",
                       f"question must be 1..{QUESTION_MAX_CHARS} printable characters")
    return question.strip()


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    autoreply, store, supervisor = ctx.actors.autoreply, ctx.store, ctx.supervisor
    reload_knowledge = ctx.reload_knowledge
    teaching = TeachingStore.of(store)
    load_lessons(autoreply, teaching)

    def known_entry(entry_id: str) -> str:
        # Any id the file has (it may be 退款); only new entries' ids are restricted.
        if autoreply.answer(entry_id) is None:
            raise ApiError(404, "no_entry", f"no knowledge entry {entry_id[:64]!r}")
        return entry_id

    def suggestion(item: Unanswered) -> dict[str, str] | None:
        """The entry the question most likely belongs to, however unsure, shown
        by its question in the asker's language. After an answer that did not
        do (the customer asked for a person next), never that answer's entry:
        one click must not teach the bot the answer that failed. (An inbox
        record from before entries were recorded: the one the bot answers with.)"""
        scored = autoreply.score(item.question)
        ranked = [e for e in scored.ranked if e != HUMAN]
        if item.answered:
            ranked = [e for e in ranked if e != item.answered]
        elif item.reason == THEN_HUMAN and ranked \
                and autoreply.decide(scored, autoreply.knowledge.threshold).kind == ANSWER:
            ranked = ranked[1:]
        return {"id": ranked[0], "question": autoreply.question(ranked[0], scored.language)} \
            if ranked else None

    @app.get("/api/autoreply/stats")
    def autoreply_stats() -> dict[str, Any]:
        """How often each answer was shown, how often a request for a person
        followed, and the share of conversations the bot ended alone."""
        supervisor()
        counters = store.answer_stats()
        rows = []
        for entry in autoreply.knowledge.entries:
            shown = counters.get(entry.id, {}).get("shown", 0)
            then_human = counters.get(entry.id, {}).get("then_human", 0)
            rate = then_human / shown if shown else 0.0
            rows.append((-rate, -shown, {
                "id": entry.id, "question": entry.questions[0], "shown": shown,
                "then_human": then_human, "human_rate": round(rate, 3) if shown else None}))
        rows.sort(key=lambda row: (row[0], row[1]))  # the answers that fail most first
        talks = teaching.conversations()
        total, alone = talks.get("total", 0), talks.get("bot_only", 0)
        return {"answers": [row[2] for row in rows],
                "conversations": {"total": total, "bot_only": alone,
                                  "bot_share": round(alone / total, 3) if total else None}}

    @app.post("/api/autoreply/reload")
    def autoreply_reload() -> dict[str, Any]:
        supervisor()
        if reload_knowledge is None:
            raise ApiError(404, "no_reload", "this server has no knowledge file to reload")
        try:
            return {"entries": reload_knowledge()}
        except ConfigError as exc:
            raise ApiError(400, "bad_knowledge", str(exc)) from None

    @app.get("/api/autoreply/unanswered")
    def unanswered() -> dict[str, Any]:
        """What the bot missed, most frequent first, each with a likely entry."""
        supervisor()
        return {"unanswered": [
            {"question": u.question, "count": u.times, "reason": u.reason,
             "servicer_answer": u.servicer_answer or None, "last_ms": u.last_ms,
             "suggestion": suggestion(u)}
            for u in teaching.unanswered(UNANSWERED_KEPT)]}

    @app.post("/api/autoreply/unanswered/dismiss")
    def dismiss() -> dict[str, Any]:
        supervisor()
        teaching.forget_unanswered([question_key(_question(json_body()))])
        return {"ok": True}

    @app.post("/api/autoreply/entries/<entry_id>/variants")
    def add_variant(entry_id: str) -> dict[str, Any]:
        supervisor()
        known_entry(entry_id)
        question = _question(json_body())
        teaching.add_variant(entry_id, question, _now_ms())
        autoreply.teach(lambda lessons: lessons.with_variant(entry_id, question))
        teaching.forget_unanswered([question_key(question)])
        taught = next(e for e in autoreply.knowledge.entries if e.id == entry_id)
        return {"entry": entry_id, "questions": list(taught.questions)}

    @app.post("/api/autoreply/examples")
    def add_example() -> dict[str, Any]:
        """Teach what a question is when it is no entry's: off-topic (``none``:
        the learned layer learns to leave it unanswered) or a request for a
        person (``human``: handed over when asked so again). Kept like a variant."""
        supervisor()
        body = json_body()
        label = body.get("label")
        if label not in (NONE_LABEL, HUMAN_LABEL):
            raise ApiError(400, "bad_label",
                           f"label must be {NONE_LABEL!r} (off-topic) or {HUMAN_LABEL!r} (asks "
                           "for a person); an entry's question is taught as its variant")
        question = _question(body)
        teaching.add_variant(label, question, _now_ms())
        autoreply.teach(lambda lessons: lessons.with_variant(label, question))
        teaching.forget_unanswered([question_key(question)])
        return {"label": label, "question": question}

    @app.post("/api/autoreply/entries")
    def add_entry() -> Any:
        supervisor()
        body = json_body()
        try:
            entry = entry_from_dict(body, "entry")
        except ConfigError as exc:
            raise ApiError(400, "bad_entry", str(exc)) from None
        if not _ENTRY_ID.fullmatch(entry.id):
            raise ApiError(400, "bad_entry", "entry.id: expected 1..64 of A-Z a-z 0-9 _ . -")
        if any(e.id == entry.id for e in autoreply.file_knowledge.entries):
            raise ApiError(409, "entry_exists",
                           f"entry {entry.id} is in the knowledge file; teach it variants")
        # A lesson that breaks the engine raises here.
        before = autoreply.teach(lambda lessons: lessons.with_entry(entry))
        try:
            teaching.save_entry(entry_to_dict(entry))
        except Exception:  # not kept, so not in use either: the entry as it was, if any
            previous = next((e for e in before.entries if e.id == entry.id), None)
            autoreply.teach(lambda lessons: lessons.with_entry(previous) if previous
                            else lessons.without_entry(entry.id))
            raise
        teaching.forget_unanswered([question_key(q) for q in entry.questions])
        bottle.response.status = 201
        return {"entry": entry_to_dict(entry)}

    @app.get("/api/autoreply/knowledge")
    def export() -> str:
        """The knowledge in use (file and lessons) as YAML, to put back in the file."""
        supervisor()
        bottle.response.content_type = "application/yaml; charset=utf-8"
        return str(yaml.safe_dump(knowledge_to_dict(autoreply.knowledge), allow_unicode=True,
                                  sort_keys=False, width=100))


def _now_ms() -> int:
    return int(time.time() * 1000)
