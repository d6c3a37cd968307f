"""Asking an external bot (a company's own bot, or an LLM gateway) over HTTP.

``POST <url>`` with ``{"customerId", "text"}``; the bot answers
``{"answer": "..."}``, or ``{"handoff": true}`` to pass the customer to a
person. Anything else, an error or a time-out means "no answer", and the
knowledge base answers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from actors.messages import BotAnswer
from transport.http.client import HttpError, JsonClient

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 4000


def bot_client(url: str, timeout_secs: float) -> Callable[[str, str], BotAnswer | None]:
    client = JsonClient(maxsize=32, read_timeout=timeout_secs)

    def ask(customer_id: str, text: str) -> BotAnswer | None:
        try:
            response = client.post(url, {"customerId": customer_id, "text": text})
        except HttpError as exc:
            log.warning("bot webhook failed for %s: %s", customer_id, exc)
            return None
        body = response.body if isinstance(response.body, dict) else {}
        if response.status != 200:
            log.warning("bot webhook answered HTTP %s for %s", response.status, customer_id)
            return None
        if body.get("handoff") is True:
            return BotAnswer(handoff=True)
        answer = body.get("answer")
        if isinstance(answer, str) and answer.strip():
            return BotAnswer(answer=answer.strip()[:MAX_ANSWER_CHARS])
        return None

    return ask
