"""The knowledge base a business feeds the bot: questions, variants, answers.

Loaded from YAML or JSON (see config/knowledge.yaml); every problem is
reported with where it is, so a bad file is refused at load or reload and
the running knowledge stays in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actors.config import ConfigError, CsConfig

LANGUAGE = re.compile(r"[a-z]{2}")  # a language of text.language_of ("zh", "en")
# The labels of a labelled example that are not entry ids: a request for a
# person, and a question the knowledge base has no answer for (off-topic).
HUMAN_LABEL, NONE_LABEL = "human", "none"


@dataclass(frozen=True)
class Entry:
    id: str
    questions: tuple[str, ...]
    answer: str  # the default: the Chinese one when the answer is given per language
    answers: tuple[tuple[str, str], ...] = ()  # (language, answer) when given per language

    def answer_in(self, language: str) -> str:
        for lang, text in self.answers:
            if lang == language:
                return text
        return self.answer


@dataclass(frozen=True)
class Knowledge:
    entries: tuple[Entry, ...]
    suggested: tuple[str, ...] = ()  # entry ids offered under the welcome
    human: tuple[str, ...] = ()  # ways of asking for a person
    threshold: float = 0.22
    # How much an entry's best single question counts against the entry as a
    # whole (1: only the best question), fitted with the threshold.
    blend: float = 0.5
    suggestions: int = 3
    misses_before_human: int = 2
    synonyms: tuple[tuple[str, str], ...] = ()  # (customer's word, knowledge base's word)
    # Customers' questions with what they are (an entry id, HUMAN_LABEL or
    # NONE_LABEL), as a supervisor would label them: what the learned layer
    # (classifier.py) learns from besides the entries' own questions, and,
    # for an entry's, more variants to retrieve by.
    examples: tuple[tuple[str, str], ...] = ()  # (question, label)
    # Weight of the learned layer's probability against retrieval's score.
    learned: float = 0.2
    # Questions that name a person, labelled HUMAN_LABEL (they ask for one) or
    # NONE_LABEL (they do not: "客服邮箱多少", "the agent was rude"): what the
    # person model (engine.py) learns from besides the examples, and only it.
    # As off-topic examples they would teach the entry classifier that a plan
    # or a discount is off-topic (docs/autoreply.md, round six).
    person_examples: tuple[tuple[str, str], ...] = ()  # (question, label)

    def entry(self, entry_id: str) -> Entry | None:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None


def knowledge_from_config(config: CsConfig) -> Knowledge:
    """The config file's keyword FAQ as a knowledge base (each keyword a question)."""
    entries = tuple(Entry(f"faq{i + 1}", f.keywords, f.answer) for i, f in enumerate(config.faq))
    return Knowledge(entries, human=config.human_words)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a non-empty list of non-empty strings")
    return tuple(v.strip() for v in value)


def _answer(value: Any, where: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An answer is text, or text per language: {"zh": ..., "en": ...}."""
    if isinstance(value, str) and value.strip():
        return value.strip(), ()
    if isinstance(value, dict) and value and all(
            isinstance(k, str) and LANGUAGE.fullmatch(k) and isinstance(v, str) and v.strip()
            for k, v in value.items()):
        answers = tuple((k, v.strip()) for k, v in value.items())
        return dict(answers).get("zh", answers[0][1]), answers
    raise ConfigError(f"{where}: expected text, or text per language ({{zh: ..., en: ...}})")


def entry_from_dict(item: Any, where: str) -> Entry:
    """One entry, {"id", "questions", "answer"}; errors name ``where`` and the field."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) \
            or not item["id"].strip():
        raise ConfigError(f"{where}.id: expected an object with an 'id'")
    unknown = set(item) - {"id", "questions", "answer"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if item["id"].strip() in (HUMAN_LABEL, NONE_LABEL):
        # The learned layer's classes are the entries, then these two.
        raise ConfigError(f"{where}.id: {item['id'].strip()!r} is reserved (a label of "
                          f"the examples: {HUMAN_LABEL} asks for a person, {NONE_LABEL} "
                          "is off-topic)")
    answer, answers = _answer(item.get("answer"), f"{where}.answer")
    return Entry(item["id"].strip(), _strings(item.get("questions"), f"{where}.questions"),
                 answer, answers)


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """The inverse of ``entry_from_dict``."""
    return {"id": entry.id, "questions": list(entry.questions),
            "answer": dict(entry.answers) if entry.answers else entry.answer}


def knowledge_to_dict(knowledge: Knowledge) -> dict[str, Any]:
    """The knowledge base as its file would say it (for the YAML export).

    The human words from the server's config are merged into ``human`` at
    load; they come out there too, which loads back to the same knowledge.
    """
    data: dict[str, Any] = {
        "settings": {"threshold": knowledge.threshold, "blend": knowledge.blend,
                     "learned": knowledge.learned,
                     "suggestions": knowledge.suggestions,
                     "misses_before_human": knowledge.misses_before_human}}
    if knowledge.suggested:
        data["suggested"] = list(knowledge.suggested)
    data["entries"] = [entry_to_dict(e) for e in knowledge.entries]
    if knowledge.synonyms:
        data["synonyms"] = dict(knowledge.synonyms)
    if knowledge.examples:
        grouped: dict[str, list[str]] = {}
        for question, label in knowledge.examples:
            grouped.setdefault(label, []).append(question)
        data["examples"] = grouped
    if knowledge.person_examples:
        people: dict[str, list[str]] = {}
        for question, label in knowledge.person_examples:
            people.setdefault(label, []).append(question)
        data["person_examples"] = people
    if knowledge.human:
        data["human"] = list(knowledge.human)
    return data


def knowledge_from_dict(data: Any, human_words: tuple[str, ...] = ()) -> Knowledge:
    if not isinstance(data, dict):
        raise ConfigError("knowledge: expected a mapping with 'entries'")
    unknown = set(data) - {"settings", "suggested", "entries", "human", "synonyms", "examples",
                           "person_examples"}
    if unknown:
        raise ConfigError(f"knowledge: unknown keys {sorted(unknown)}")
    items = data.get("entries")
    if not isinstance(items, list) or not items:
        raise ConfigError("knowledge.entries: expected a non-empty list")
    entries = [entry_from_dict(item, f"knowledge.entries[{i}]") for i, item in enumerate(items)]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ConfigError("knowledge.entries: duplicate ids")
    suggested = _strings(data.get("suggested", []), "knowledge.suggested") \
        if data.get("suggested") else ()
    missing = [s for s in suggested if s not in ids]
    if missing:
        raise ConfigError(f"knowledge.suggested: no entries {missing}")
    human = _strings(data["human"], "knowledge.human") if data.get("human") else ()
    settings = data.get("settings") or {}
    if not isinstance(settings, dict) or set(settings) - {
            "threshold", "blend", "learned", "suggestions", "misses_before_human"}:
        raise ConfigError("knowledge.settings: threshold, blend, learned, suggestions, "
                          "misses_before_human")
    threshold = settings.get("threshold", 0.22)
    if not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ConfigError("knowledge.settings.threshold: expected a number in (0, 1]")
    weights = {}
    for key, default in (("blend", 0.5), ("learned", 0.2)):
        weight = settings.get(key, default)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) \
                or not 0 <= weight <= 1:
            raise ConfigError(f"knowledge.settings.{key}: expected a number in [0, 1]")
        weights[key] = float(weight)
    synonyms = data.get("synonyms") or {}
    if not isinstance(synonyms, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
            for k, v in synonyms.items()):
        raise ConfigError("knowledge.synonyms: expected a mapping of word to word")
    counts = {}
    for key, default in (("suggestions", 3), ("misses_before_human", 2)):
        value = settings.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"knowledge.settings.{key}: expected a whole number >= 0")
        counts[key] = value
    return Knowledge(tuple(entries), suggested, human + tuple(
        w for w in human_words if w not in human), float(threshold), weights["blend"], **counts,
        synonyms=tuple((k.strip(), v.strip()) for k, v in synonyms.items()),
        examples=_examples(data.get("examples"), set(ids)), learned=weights["learned"],
        person_examples=_examples(data.get("person_examples"), set(),
                                  "knowledge.person_examples"))


def _examples(value: Any, ids: set[str],
              where: str = "knowledge.examples") -> tuple[tuple[str, str], ...]:
    """``examples:``, a mapping of label (an entry id, human, none) to questions;
    ``person_examples:`` takes no entry ids (``ids`` empty). Absent (None) is
    none; anything but a mapping is refused, an empty list or text included."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of label to questions")
    labels = f"{HUMAN_LABEL} or {NONE_LABEL}"
    examples = []
    for label, questions in value.items():
        if label not in ids | {HUMAN_LABEL, NONE_LABEL}:
            raise ConfigError(f"{where}.{label}: no such entry (a label is an entry id, "
                              f"{labels})" if ids else f"{where}.{label}: a label here is {labels}")
        examples += [(q, label) for q in _strings(questions, f"{where}.{label}")]
    return tuple(examples)


def load_knowledge(path: str | Path, human_words: tuple[str, ...] = ()) -> Knowledge:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be parsed ({' '.join(str(exc).split())})") from None
    try:
        return knowledge_from_dict(data, human_words)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
