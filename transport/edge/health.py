"""What ``/readyz`` reports: can we store, can we reach the IM server, what waits."""

from __future__ import annotations

import logging
from typing import Any

from actors.system import CsActors
from storage import Store
from transport.edge.intake import Intake
from transport.http.client import HttpError, JsonClient

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECS = 1.0


class Readiness:
    def __init__(self, store: Store, actors: CsActors, intake: Intake, im_url: str) -> None:
        self._store = store
        self._actors = actors
        self._intake = intake
        self._im_url = im_url.rstrip("/") + "/"
        self._http = JsonClient(maxsize=2, read_timeout=PROBE_TIMEOUT_SECS)

    def report(self) -> dict[str, Any]:
        redis_ok = self._redis_reachable()
        im_ok = self._im_reachable()
        if redis_ok:
            self._intake.storage_is_back()
        actors_ok = self._actors.ready
        report: dict[str, Any] = {
            "ready": redis_ok and im_ok and actors_ok,
            "actors": "ok" if actors_ok else "restarting",
            "actor_restarts": self._actors.restarts(),
            "redis": "ok" if redis_ok else "unreachable",
            "im": "ok" if im_ok else "unreachable",
            "storage": "degraded" if self._intake.degraded_since else "ok",
            "degraded_since": self._intake.degraded_since,
            "callbacks_in_memory_only": self._intake.unjournaled,
            "duplicate_callbacks": self._intake.duplicates,
        }
        stats = self._actors.outbox.stats()
        report.update(backlog=stats.backlog, sent=stats.sent, rejected=stats.rejected,
                      retries=stats.retries)
        if redis_ok:
            try:
                report["journal_inbound"], report["journal_outbound"] = (
                    self._store.journal_sizes())
            except Exception:
                log.debug("journal sizes unavailable", exc_info=True)
        return report

    def _redis_reachable(self) -> bool:
        try:
            return self._store.ping()
        except Exception:
            return False

    def _im_reachable(self) -> bool:
        try:
            self._http.get(self._im_url)  # any HTTP answer means it is up
            return True
        except HttpError:
            return False
