"""Canned replies in a Shadow chat: ``#name`` sends a prepared text to the customer.

A servicer in an ordinary WildfireChat client writes ``#hi``: the customer
gets that text, filled with their name and the servicer's, as any reply of
the servicer's. ``#`` alone lists the names; an unknown name gets the
closest ones back, and nothing goes to the customer. The texts come from
the configuration (``canned``), the team's shared ones and the servicer's
own, which win.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from storage.canned import CannedStore

if TYPE_CHECKING:
    from actors.config import CsConfig
    from actors.texts import Texts
    from storage import Store

log = logging.getLogger(__name__)

CANNED_NAME = re.compile(r"^[\w-]{1,32}$")
_COMMAND = re.compile(r"^#([\w-]{1,32})?$")
MAX_CANNED_CHARS = 2000
PLACEHOLDERS = frozenset({"customer_name", "servicer_name"})
LISTED_NAMES = 30  # a list or a fallback names this many at most


class CannedAnswer(NamedTuple):
    to_customer: str = ""  # the filled text, or ""
    to_servicer: str = ""  # the list, or the closest names, or ""


def canned_command(text: str) -> str | None:
    """The name a ``#name`` message asks for ("" for ``#`` alone), or None."""
    match = _COMMAND.match(text.strip())
    return (match.group(1) or "") if match else None


def answer(name: str, replies: dict[str, str], customer_name: str, servicer_name: str,
           texts: Texts, readable: bool = True) -> CannedAnswer:
    """What ``#name`` comes to with these replies. With none at all the
    servicer is told how to add one, or, when the stored ones could not be
    read (``readable`` false), that they cannot be read just now. An unknown
    name gets the closest names, or the first names there are if none is close."""
    if not replies:
        return CannedAnswer(to_servicer=texts.canned_none if readable
                            else texts.canned_unavailable)
    if not name:
        return CannedAnswer(to_servicer=texts.canned_list.format(names=_names(sorted(replies))))
    text = replies.get(name)
    if text is None:
        closest = difflib.get_close_matches(name, list(replies), n=3, cutoff=0.4)
        if closest:
            return CannedAnswer(to_servicer=texts.canned_unknown.format(
                name=name, closest=_names(closest)))
        return CannedAnswer(to_servicer=texts.canned_unknown_any.format(
            name=name, names=_names(sorted(replies))))
    # One pass over the text, so a name that itself reads "{servicer_name}" stays as it is.
    filled = re.sub(r"\{(customer_name|servicer_name)\}",
                    lambda m: customer_name if m.group(1) == "customer_name" else servicer_name,
                    text)
    return CannedAnswer(to_customer=filled)


def _names(names: list[str]) -> str:
    """``#a, #b, ...``, at most LISTED_NAMES of them."""
    shown = ", ".join(f"#{n}" for n in names[:LISTED_NAMES])
    return shown + (f" (+{len(names) - LISTED_NAMES})" if len(names) > LISTED_NAMES else "")


def canned_reply(name: str, config: CsConfig, store: Store, customer_name: str,
                 servicer_id: str, servicer_name: str) -> CannedAnswer:
    """What ``#name`` from this servicer comes to, with every source of canned replies."""
    replies, readable = replies_for(config.canned, store, servicer_id)
    return answer(name, replies, customer_name, servicer_name, config.texts, readable)


def replies_for(configured: Mapping[str, str], store: Store, servicer_id: str
                ) -> tuple[dict[str, str], bool]:
    """The configuration's, then the team's shared, then the servicer's own: later
    wins; and whether storage was read. Storage that cannot be read leaves the
    configuration's (and says so in the log)."""
    replies = dict(configured)
    try:
        canned = CannedStore.of(store)
        replies.update(canned.replies(None))
        replies.update(canned.replies(servicer_id))
    except Exception:
        log.warning("canned replies of %s not read; the configured ones answer", servicer_id)
        return replies, False
    return replies, True
