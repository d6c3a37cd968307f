"""The text commands servicers type in an ordinary WildfireChat client."""

from __future__ import annotations

from typing import NamedTuple

# Written to the CS Robot.
STATUS_WORDS = {
    "/on": "on", "上班": "on",
    "/pause": "paused", "/away": "paused", "暂停": "paused", "离开": "paused",
    "/off": "off", "下班": "off",
}

# Written in a Shadow chat.
END_WORDS = frozenset({"/end", "结束"})
TRANSFER_WORDS = frozenset({"/transfer", "转接"})


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
    if head in TRANSFER_WORDS and len(words) <= 2:
        return ShadowCommand("transfer", words[1] if len(words) == 2 else "")
    return None
