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

from actors.hours import BusinessHours, HoursError, hours_from_dict
from actors.messages import Servicer
from storage.errors import CsError


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
    duty_paused: str = "已暂停 (paused): no new customers until /on."
    auto_paused: str = "您已长时间未回复，已自动暂停接待。You were paused after {minutes} minutes without a reply; write /on to resume."
    missed_paused: str = "您已连续 {missed} 位客户未及时回复，已暂停接待。You did not answer {missed} customers in a row and are paused; write /on to resume."
    servicer_reassigned_away: str = "您未及时回复，客户已转给 {servicer_name}。You did not answer in time; the customer now goes to {servicer_name}."
    servicer_help: str = "客服指令 / commands: /on 上班, /pause 暂停, /off 下班, /help 帮助. 在客户会话中 / in a customer chat: /end 结束, /transfer <客服 id> 转接, /transfer 退回队列 / back to the queue, #名称 快捷回复 / #name a canned reply, # 列出快捷回复 / list them. 排队的客户 / waiting customers: 网页工作台的“接待下一位”即使满员也可再接一位 / 'Take next' in the web console takes one more, even when you are full."
    shadow_help: str = "会话指令 / commands here: /end 结束会话 (end), /transfer <客服 id> 转接 (to a servicer), /transfer 退回队列 (back to the queue), #名称 发送快捷回复 (#name: a canned reply), # 列出快捷回复 (list them), /help 帮助."
    customer_help: str = "直接输入您的问题即可；输入“人工”转人工客服，/help 查看帮助。Just write your question; write 'human' for a person, /help for this help."
    queued: str = "当前客服繁忙，您前面还有 {ahead} 位，预计等待{wait_zh}。All servicers are busy; you are number {position} in the queue (about {wait_en})."
    bad_priority: str = "优先级应为 0-9 的整数，已按 0 处理。A priority is a whole number from 0 to 9; 0 is used."
    leave_message_offer: str = "您可以直接留言，客服上班后会第一时间回复您。To leave a message, just write it: the first servicer on duty will answer."
    message_left: str = "留言已收到，客服上班后会回复您。Thank you: your message waits for the first servicer on duty."
    message_expired: str = "抱歉，您的留言未能及时得到回复，请稍后再试。Sorry, nobody could answer your message in time; please try again."
    queue_full: str = "当前排队人数已满，请稍后再试。The queue is full; please try again later."
    queue_timeout: str = "抱歉，等待时间过长，请稍后再试。Sorry, nobody could take your request in time; please try again later."
    offline: str = "现在是非工作时间，我们{next_open_zh}上班（{hours}）。We are closed now and open {next_open_en}."
    transferred: str = "已为您转接客服 {servicer_name}。{servicer_name} will take over now."
    servicer_transferred_away: str = "会话已转给 {servicer_name}。The session now goes to {servicer_name}."
    servicer_transferred_in: str = "{previous_name} 转来的客户 {customer_name} ({customer_id})。Transferred from {previous_name}."
    transfer_failed: str = "转接失败：{reason}。Transfer failed: {reason}."
    servicer_not_yours: str = "该会话不由您接待。This customer is served by someone else."
    rating_request: str = "请为本次服务打分（1-5）。Please rate this conversation from 1 to 5."
    rating_thanks: str = "感谢您的评价！Thank you for your rating!"
    rating_invalid: str = "请输入 1 到 5 之间的数字。Please answer with a number from 1 to 5."
    suggest: str = "您是不是想问 / Did you mean:\n{options}\n回复数字即可 / reply with a number."
    welcome_suggestions: str = "猜你想问 / You may ask:\n{options}"
    offer_human: str = "还没解决？输入“人工”转人工客服。Still stuck? Type 'human' to reach a person."
    canned_list: str = "快捷回复 / canned replies: {names}"
    canned_unknown: str = "没有快捷回复 #{name}，相近的有 {closest}。No canned reply #{name}; the closest: {closest}."
    monitor_refused: str = "只有主管可以监听会话。Only supervisors may watch conversations."
    monitor_started: str = "开始监听 {customer_id}（在此输入的内容只有客服能看到，/takeover 接管）。Watching {customer_id}: what you write here reaches the servicer only; /takeover takes the customer over."
    monitor_stopped: str = "已停止监听 {customer_id}。Stopped watching {customer_id}."
    monitor_list: str = "进行中的会话 / live conversations: {customers}"
    monitor_no_session: str = "{customer_id} 没有进行中的会话。{customer_id} has no live conversation."
    whisper: str = "[主管 {supervisor} 悄悄话 / whisper] {text}"
    copy_customer: str = "[客户 / customer] {text}"
    copy_bot: str = "[机器人 / bot] {text}"
    copy_servicer: str = "[客服 / servicer {name}] {text}"
    too_fast: str = "您发送得太快了，请稍候再发。You are sending messages too fast; please wait a moment."


# What each text is given when it is said: a placeholder outside its set
# would raise KeyError the first time the text is used (once, inside the
# pool, it stopped the pool: issue 19), so a config that has one is refused.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "seat_assigned": frozenset({"servicer_name"}),
    "already_human": frozenset({"servicer_name"}),
    "servicer_seat": frozenset({"customer_name", "customer_id"}),
    "servicer_history": frozenset({"history"}),
    "duty_on": frozenset({"load", "capacity"}),
    "duty_off": frozenset({"load", "capacity"}),
    "duty_paused": frozenset({"load", "capacity"}),
    "auto_paused": frozenset({"minutes"}),
    "missed_paused": frozenset({"missed"}),
    "servicer_reassigned_away": frozenset({"servicer_name"}),
    "queued": frozenset({"position", "ahead", "wait_zh", "wait_en"}),
    "offline": frozenset({"hours", "next_open_zh", "next_open_en"}),
    "transferred": frozenset({"servicer_name"}),
    "servicer_transferred_away": frozenset({"servicer_name"}),
    "servicer_transferred_in": frozenset({"previous_name", "customer_name", "customer_id"}),
    "transfer_failed": frozenset({"reason"}),
    "suggest": frozenset({"options"}),
    "canned_list": frozenset({"names"}),
    "monitor_started": frozenset({"customer_id"}),
    "monitor_stopped": frozenset({"customer_id"}),
    "monitor_list": frozenset({"customers"}),
    "monitor_no_session": frozenset({"customer_id"}),
    "whisper": frozenset({"supervisor", "text"}),
    "copy_customer": frozenset({"text"}),
    "copy_bot": frozenset({"text"}),
    "copy_servicer": frozenset({"name", "text"}),
    "canned_unknown": frozenset({"name", "closest"}),
    "welcome_suggestions": frozenset({"options"}),
}


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
        return self.shadow_id_pattern.replace("{customer}", customer_id)

    def customer_of_shadow(self, shadow_id: str) -> str | None:
        """The customer a Shadow id stands for, by the pattern (None if it does not fit)."""
        if not self.is_shadow_id(shadow_id):
            return None
        head, _, tail = self.shadow_id_pattern.partition("{customer}")
        return shadow_id[len(head):len(shadow_id) - len(tail)]

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
