"""The recent history as one text a servicer reads when a customer is seated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CUSTOMER, SERVICER, BOT = "客户", "客服", "机器人"


def transcript(entries: Iterable[dict[str, Any]], customer_id: str,
               control_types: frozenset[int]) -> str:
    """One line per message, control messages left out."""
    lines = []
    for entry in entries:
        payload = entry.get("payload", {})
        if payload.get("type") in control_types:
            continue
        text = payload.get("searchableContent") or f"[type {payload.get('type')}]"
        if entry.get("dir") == "in":
            who = CUSTOMER if entry.get("from") == customer_id else SERVICER
        else:
            who = SERVICER if entry.get("servicer") else BOT
        lines.append(f"{who}: {text}")
    return "\n".join(lines)
