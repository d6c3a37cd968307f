"""The text commands servicers type in an ordinary WildfireChat client."""

from __future__ import annotations

import json
from typing import NamedTuple

from actors.messages import Payload

MAX_GROUP_CHARS = 64

# Written to the CS Robot.
STATUS_WORDS = {
    "/on": "on", "上班": "on",
    "/pause": "paused", "/away": "paused", "暂停": "paused", "离开": "paused",
    "/off": "off", "下班": "off",
}

# Written in a Shadow chat.
END_WORDS = frozenset({"/end", "结束"})
TRANSFER_WORDS = frozenset({"/transfer", "转接"})
# Written to the CS Robot by a supervisor: watch a live conversation.
MONITOR_WORDS = frozenset({"/monitor", "监听"})
UNMONITOR_WORDS = frozenset({"/unmonitor", "取消监听"})
# Written by a supervisor in a Shadow chat they watch: take the customer over.
TAKEOVER_WORDS = frozenset({"/takeover", "接管"})


class MonitorCommand(NamedTuple):
    watch: bool  # /monitor, or /unmonitor
    customer_id: str = ""  # "" with /monitor: list the live conversations


def monitor_command(text: str) -> MonitorCommand | None:
    words = text.strip().split()
    if not words or len(words) > 2:
        return None
    head = words[0].lower()
    if head in MONITOR_WORDS:
        return MonitorCommand(True, words[1] if len(words) == 2 else "")
    if head in UNMONITOR_WORDS and len(words) == 2:
        return MonitorCommand(False, words[1])
    return None


def is_takeover(text: str) -> bool:
    return text.strip().lower() in TAKEOVER_WORDS


# Written anywhere: the commands the writer may use.
HELP_WORDS = frozenset({"/help", "帮助"})


def asks_for_help(text: str) -> bool:
    return text.strip().lower() in HELP_WORDS


class ShadowCommand(NamedTuple):
    """``end``, or ``transfer`` with a servicer id ("" = back to the queue)."""

    name: str
    argument: str = ""


def status_command(text: str) -> str | None:
    """The status a servicer asks for with this text, if it is a status command."""
    return STATUS_WORDS.get(text.strip().lower())


def duty_command(text: str, from_servicer: bool) -> str | None:
    """The status this text asks for, if it is a command from this sender.

    A servicer's status words are commands; a customer's "离开" (leaving) or
    "暂停" is just something a customer says, for their session. A slash
    command from anyone is a command, so a customer who tries ``/on`` is told
    that only servicers go on duty.
    """
    status = status_command(text)
    if status is None or from_servicer or text.strip().startswith("/"):
        return status
    return None


def shadow_command(text: str) -> ShadowCommand | None:
    words = text.strip().split()
    if not words:
        return None
    head = words[0].lower()
    if head in END_WORDS and len(words) == 1:
        return ShadowCommand("end")
    if head in HELP_WORDS and len(words) == 1:
        return ShadowCommand("help")
    if head in TRANSFER_WORDS and len(words) <= 2:
        return ShadowCommand("transfer", words[1] if len(words) == 2 else "")
    return None


class HumanRequest(NamedTuple):
    group: str = ""
    priority: int | None = None  # None: not given (the customer's own, if set, else 0)
    bad_priority: bool = False  # given, but not a whole number 0-9 (0 is used)


def human_request(payload: Payload) -> HumanRequest:
    """The group and priority a request-human message asks for: content
    ``{"group": "...", "priority": 0-9}``; anything unreadable is the default."""
    try:
        data = json.loads(payload.content) if payload.content else {}
    except ValueError:
        return HumanRequest()
    if not isinstance(data, dict):
        return HumanRequest()
    group = data.get("group", "")
    group = group[:MAX_GROUP_CHARS] if isinstance(group, str) else ""
    if "priority" not in data:
        return HumanRequest(group)
    priority = data["priority"]
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
        return HumanRequest(group, 0, bad_priority=True)
    return HumanRequest(group, priority)
