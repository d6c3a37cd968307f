"""Customer-service rules: texts, content types, time-outs, servicers, FAQ.

Loaded from a JSON file (``--config``); every key is optional and falls back
to the defaults below, so a business only writes what it changes.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from actors.hours import BusinessHours, HoursError, hours_from_dict
from actors.messages import Servicer
from actors.texts import TEXT_PLACEHOLDERS, Texts
from storage.errors import CsError

# What a Shadow id may hold as it is: printable ASCII but "%" (actors/config.py shadow_id).
_PLAIN = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def shadow_id_for(pattern: str, customer_id: str) -> str:
    """``pattern`` with the customer in it, escaped (CsConfig.shadow_id); the
    App Server checks a Shadow it is asked to create against the same rule."""
    return pattern.replace("{customer}", quote(customer_id, safe=_PLAIN))


class ConfigError(CsError, ValueError):
    """The configuration file is unreadable or holds a wrong value."""

    code = "bad_config"
    http_status = 400


@dataclass(frozen=True)
class ContentTypes:
    """Our custom WildfireChat content types (DESIGN.md §5)."""

    enter: int = 10001
    leave: int = 10002
    request_human: int = 10003
    rating: int = 10004
    rating_request: int = 10005


def check_placeholders(key: str, text: str) -> None:
    """Refuse a text whose placeholders are not all given to it.

    Raises:
        ConfigError: naming the key and the placeholder.
    """
    allowed = TEXT_PLACEHOLDERS.get(key, frozenset())
    try:
        fields_used = [name for _, name, _, _ in string.Formatter().parse(text)
                       if name is not None]
    except ValueError as exc:
        raise ConfigError(f"texts.{key}: {exc} (write {{{{ and }}}} for a literal brace)"
                          ) from None
    for name in fields_used:
        base = name.split(".")[0].split("[")[0]
        if base not in allowed:
            takes = ", ".join("{" + p + "}" for p in sorted(allowed)) or "no placeholders"
            shown = "{" + name + "}" if name else "{}"
            raise ConfigError(f"texts.{key}: unknown placeholder {shown}; "
                              f"this text takes {takes}")


@dataclass(frozen=True)
class FaqEntry:
    """One auto-reply: any keyword found in the question selects the answer."""

    keywords: tuple[str, ...]
    answer: str


DEFAULT_HUMAN_WORDS = ("人工", "转人工", "人工客服", "human", "agent")

STRATEGIES = ("least_loaded", "round_robin", "sticky")
# More sessions at once than any person can hold; a bound keeps a typo (or a
# 10**20 through the API) from making the pool's snapshot unwritable.
MAX_CAPACITY = 10_000
OFF_DUTY_POLICIES = ("keep", "requeue")


@dataclass(frozen=True)
class CsConfig:
    """The rules one CS server runs by."""

    content_types: ContentTypes = field(default_factory=ContentTypes)
    texts: Texts = field(default_factory=Texts)
    servicers: tuple[Servicer, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    human_words: tuple[str, ...] = DEFAULT_HUMAN_WORDS
    shadow_id_pattern: str = "{customer}*Shadow"
    idle_auto_secs: float = 300.0
    idle_human_secs: float = 900.0
    history_on_seat: int = 10
    strategy: str = "least_loaded"
    queue_max_length: int = 50
    queue_max_wait_secs: float = 600.0
    # A message left while nobody is on duty waits this long for a servicer.
    message_max_wait_secs: float = 3 * 24 * 3600.0
    off_duty_policy: str = "keep"
    auto_pause_secs: float = 600.0  # 0: never
    # A newly seated customer whose servicer has not written within this long
    # goes to another servicer on duty with room (0: never); pause a servicer
    # after this many such misses in a row (0: never).
    reassign_after_secs: float = 0.0
    pause_after_missed: int = 0
    rating_window_secs: float = 300.0
    business_hours: BusinessHours | None = None
    # A customer may send this many messages per 10 s (bursts included);
    # more are not processed, and the customer is told once. 0: no limit.
    customer_rate_limit: int = 20
    # Ask an external bot (a company's own, or an LLM gateway) first; on failure
    # or time-out the knowledge base answers.
    bot_webhook: str = ""
    bot_webhook_timeout_secs: float = 3.0
    # Canned replies a servicer sends with "#name" in a Shadow chat (name -> text).
    canned: Mapping[str, str] = field(default_factory=dict)
    # User ids who may watch live conversations, whisper to their servicer and
    # take a customer over (more can be added through the API).
    supervisors: tuple[str, ...] = ()

    def shadow_id(self, customer_id: str) -> str:
        """The customer's Shadow. It travels in the robot API's ``rid`` header,
        where only Latin-1 can go (and the IM server reads bytes as such), so a
        character beyond printable ASCII, and ``%`` itself, is %-escaped."""
        return shadow_id_for(self.shadow_id_pattern, customer_id)

    def customer_of_shadow(self, shadow_id: str) -> str | None:
        """The customer a Shadow id stands for, by the pattern (None if it does not fit)."""
        if not self.is_shadow_id(shadow_id):
            return None
        head, _, tail = self.shadow_id_pattern.partition("{customer}")
        inner = shadow_id[len(head):len(shadow_id) - len(tail)]
        customer = unquote(inner)
        # A Shadow made before ids were escaped ("a%41b" for the customer "a%41b")
        # is not one this rule makes: it stands for its customer as written.
        return customer if shadow_id_for(self.shadow_id_pattern, customer) == shadow_id else inner

    def is_shadow_id(self, robot_id: str) -> bool:
        """Whether ``robot_id`` fits the Shadow pattern (a cheap check at the edge)."""
        head, _, tail = self.shadow_id_pattern.partition("{customer}")
        return (len(robot_id) > len(head) + len(tail)
                and robot_id.startswith(head) and robot_id.endswith(tail))


def _build(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object")
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values = {}
    for name, value in data.items():
        expected = type(getattr(cls(), name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{where}.{name}: expected {expected.__name__}")
        values[name] = value
    return cls(**values)


def servicer_from_dict(item: Any, where: str = "servicer") -> Servicer:
    """A servicer from ``"id"`` or ``{"id", "name", "portrait", "capacity", "groups"}``."""
    if isinstance(item, str):
        item = {"id": item}
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise ConfigError(f"{where}: expected an object with an 'id'")
    unknown = set(item) - {"id", "name", "portrait", "capacity", "groups"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    capacity = item.get("capacity", 5)
    if not isinstance(capacity, int) or isinstance(capacity, bool) \
            or not 1 <= capacity <= MAX_CAPACITY:
        raise ConfigError(f"{where}.capacity: expected a whole number 1..{MAX_CAPACITY}")
    groups = item.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise ConfigError(f"{where}.groups: expected a list of group names")
    for key in ("name", "portrait"):
        if not isinstance(item.get(key, ""), str):
            raise ConfigError(f"{where}.{key}: expected a string")
    return Servicer(id=item["id"], name=item.get("name") or item["id"],
                    portrait=item.get("portrait", ""), capacity=capacity,
                    groups=tuple(groups))


def _servicers(items: Any) -> tuple[Servicer, ...]:
    if not isinstance(items, list):
        raise ConfigError("servicers: expected a list")
    result = tuple(servicer_from_dict(item, f"servicers[{i}]") for i, item in enumerate(items))
    ids = [s.id for s in result]
    if len(set(ids)) != len(ids):
        raise ConfigError("servicers: duplicate ids")
    return result


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{key}: expected one of {', '.join(allowed)}")
    return str(value)


def _number(key: str, value: Any, minimum: float = 0.0) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < minimum \
            or not math.isfinite(value):
        raise ConfigError(f"{key}: expected a number >= {minimum:g}")
    return float(value)


def _faq(items: Any) -> tuple[FaqEntry, ...]:
    if not isinstance(items, list):
        raise ConfigError("faq: expected a list")
    entries = []
    for i, item in enumerate(items):
        keywords = item.get("keywords") if isinstance(item, dict) else None
        answer = item.get("answer") if isinstance(item, dict) else None
        if (not isinstance(keywords, list) or not keywords
                or not all(isinstance(k, str) and k for k in keywords)
                or not isinstance(answer, str) or not answer):
            raise ConfigError(f"faq[{i}]: expected {{'keywords': [...], 'answer': '...'}}")
        entries.append(FaqEntry(tuple(k.lower() for k in keywords), answer))
    return tuple(entries)


def _canned(value: Any) -> dict[str, str]:
    """``{"hi": "您好，我是{servicer_name}…"}``: names of letters, digits, - or _."""
    from actors.session.canned import CANNED_NAME, MAX_CANNED_CHARS, PLACEHOLDERS

    if not isinstance(value, dict):
        raise ConfigError("canned: expected an object of name -> text")
    for name, text in value.items():
        if not isinstance(name, str) or not CANNED_NAME.match(name):
            raise ConfigError(f"canned: {name!r} is not a name of 1-32 letters, digits, - or _")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_CANNED_CHARS:
            raise ConfigError(f"canned.{name}: expected text of 1..{MAX_CANNED_CHARS} characters")
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        if used - PLACEHOLDERS:
            raise ConfigError(f"canned.{name}: unknown placeholder "
                              f"{{{sorted(used - PLACEHOLDERS)[0]}}}; a canned reply takes "
                              "{customer_name}, {servicer_name}")
    return dict(value)


def config_from_dict(data: dict[str, Any]) -> CsConfig:
    """Build a config from parsed JSON, with a clear error for each wrong value."""
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    config = CsConfig()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "content_types":
            changes[key] = _build(ContentTypes, value, key)
        elif key == "texts":
            texts = _build(Texts, value, key)
            for name in value:
                check_placeholders(name, getattr(texts, name))
            changes[key] = texts
        elif key == "servicers":
            changes[key] = _servicers(value)
        elif key == "faq":
            changes[key] = _faq(value)
        elif key == "human_words":
            if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
                raise ConfigError("human_words: expected a list of words")
            changes[key] = tuple(w.lower() for w in value)
        elif key == "shadow_id_pattern":
            if not isinstance(value, str) or value.count("{customer}") != 1:
                raise ConfigError("shadow_id_pattern: must contain {customer} once")
            changes[key] = value
        elif key == "bot_webhook":
            if not isinstance(value, str) or not (value == "" or value.startswith(
                    ("http://", "https://"))):
                raise ConfigError("bot_webhook: expected an http(s) URL")
            changes[key] = value
        elif key in ("idle_auto_secs", "idle_human_secs", "queue_max_wait_secs",
                     "message_max_wait_secs",
                     "rating_window_secs", "bot_webhook_timeout_secs"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0 \
                    or not math.isfinite(value):
                raise ConfigError(f"{key}: expected a positive number of seconds")
            changes[key] = float(value)
        elif key in ("auto_pause_secs", "reassign_after_secs"):
            changes[key] = _number(key, value)
        elif key in ("history_on_seat", "queue_max_length", "customer_rate_limit",
                     "pause_after_missed"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{key}: expected a whole number >= 0")
            changes[key] = value
        elif key == "supervisors":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError("supervisors: expected a list of user ids")
            changes[key] = tuple(value)
        elif key == "canned":
            changes[key] = _canned(value)
        elif key == "strategy":
            changes[key] = _choice(key, value, STRATEGIES)
        elif key == "off_duty_policy":
            changes[key] = _choice(key, value, OFF_DUTY_POLICIES)
        elif key == "business_hours":
            try:
                changes[key] = hours_from_dict(value)
            except HoursError as exc:
                raise ConfigError(str(exc)) from None
        else:
            raise ConfigError(f"unknown key {key!r}")
    return replace(config, **changes)


def load_config(path: str | Path) -> CsConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
