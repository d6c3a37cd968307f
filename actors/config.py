"""Customer-service rules: texts, content types, time-outs, servicers, FAQ.

Loaded from a JSON file (``--config``); every key is optional and falls back
to the defaults below, so a business only writes what it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from actors.messages import Servicer


class ConfigError(ValueError):
    """The configuration file is unreadable or holds a wrong value."""


@dataclass(frozen=True)
class ContentTypes:
    """Our custom WildfireChat content types (DESIGN.md §5)."""

    enter: int = 10001
    leave: int = 10002
    request_human: int = 10003
    rating: int = 10004
    rating_request: int = 10005


@dataclass(frozen=True)
class Texts:
    """Everything the CS Robot or a Shadow says on its own account."""

    welcome: str = "您好，欢迎咨询！Hello, how can we help? 输入“人工”转人工客服 / type 'human' for a person."
    fallback: str = "抱歉，我没有理解您的问题。输入“人工”转人工客服。Sorry, I did not get that; type 'human' for a person."
    no_servicer: str = "当前没有空闲的客服，请稍后再试。No servicer is available right now; please try again later."
    seat_assigned: str = "客服 {servicer_name} 为您服务。{servicer_name} will help you now."
    shadow_failed: str = "暂时无法连接人工客服，请稍后再试。We cannot reach a servicer right now; please try again later."
    already_human: str = "您已在人工服务中。You are already talking to {servicer_name}."
    idle_end: str = "由于长时间未操作，本次会话已结束。This conversation ended because it was idle."
    servicer_end: str = "客服已结束本次会话，感谢您的咨询。The servicer ended this conversation. Thank you!"
    servicer_seat: str = "新客户 {customer_name} ({customer_id}) 已接入。Reply here; write /end to finish."
    servicer_history: str = "最近记录 / Recent history:\n{history}"
    servicer_customer_left: str = "客户已离开，会话结束。The customer left; the session is closed."
    servicer_idle_end: str = "会话因空闲超时结束。The session ended after being idle."
    servicer_session_over: str = "该会话已结束。This session is over."
    servicer_ended: str = "会话已结束。You ended the session."
    duty_on: str = "已上班 (on duty): {load}/{capacity} sessions."
    duty_off: str = "已下班 (off duty). Open sessions stay with you until they end."
    duty_refused: str = "只有登记的客服可以上班。Only registered servicers can go on duty."
    servicer_help: str = "客服指令 / commands: /on 上班, /off 下班."


@dataclass(frozen=True)
class FaqEntry:
    """One auto-reply: any keyword found in the question selects the answer."""

    keywords: tuple[str, ...]
    answer: str


DEFAULT_HUMAN_WORDS = ("人工", "转人工", "人工客服", "human", "agent")


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

    def shadow_id(self, customer_id: str) -> str:
        return self.shadow_id_pattern.replace("{customer}", customer_id)

    def is_shadow_id(self, robot_id: str) -> bool:
        """Whether ``robot_id`` fits the Shadow pattern (a cheap check at the edge)."""
        head, _, tail = self.shadow_id_pattern.partition("{customer}")
        return (len(robot_id) > len(head) + len(tail)
                and robot_id.startswith(head) and robot_id.endswith(tail))

    def servicer(self, servicer_id: str) -> Servicer | None:
        for s in self.servicers:
            if s.id == servicer_id:
                return s
        return None


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


def _servicers(items: Any) -> tuple[Servicer, ...]:
    if not isinstance(items, list):
        raise ConfigError("servicers: expected a list")
    result = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise ConfigError(f"servicers[{i}]: expected an object with an 'id'")
        capacity = item.get("capacity", 5)
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ConfigError(f"servicers[{i}].capacity: expected a whole number >= 1")
        result.append(Servicer(id=item["id"], name=str(item.get("name", item["id"])),
                               portrait=str(item.get("portrait", "")), capacity=capacity))
    ids = [s.id for s in result]
    if len(set(ids)) != len(ids):
        raise ConfigError("servicers: duplicate ids")
    return tuple(result)


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
            changes[key] = _build(Texts, value, key)
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
        elif key in ("idle_auto_secs", "idle_human_secs"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{key}: expected a positive number of seconds")
            changes[key] = float(value)
        elif key == "history_on_seat":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError("history_on_seat: expected a whole number >= 0")
            changes[key] = value
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
