"""What supervisors taught at run time, laid on top of the knowledge base file.

A lesson is a variant of an existing entry, a new entry, or a question
labelled as a request for a person (``human``: handed over when asked so
again) or as off-topic (``none``: an example the learned layer learns to
leave unanswered); a label is kept as a variant of that name. The file stays
the business's own; lessons live in Redis (storage/teaching.py) and are
applied to whatever file is loaded, at start and at every reload, so
reloading an edited file never forgets what was taught.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from actors.autoreply.knowledge import HUMAN_LABEL, NONE_LABEL, Entry, Knowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lessons:
    entries: tuple[Entry, ...] = ()  # created through the API
    # (entry id, question), oldest first; the id may be HUMAN_LABEL or NONE_LABEL
    variants: tuple[tuple[str, str], ...] = ()

    def with_variant(self, entry_id: str, question: str) -> Lessons:
        if (entry_id, question) in self.variants:
            return self
        return replace(self, variants=self.variants + ((entry_id, question),))

    def with_entry(self, entry: Entry) -> Lessons:
        kept = tuple(e for e in self.entries if e.id != entry.id)
        return replace(self, entries=kept + (entry,))

    def without_entry(self, entry_id: str) -> Lessons:
        return replace(self, entries=tuple(e for e in self.entries if e.id != entry_id))

    def apply(self, knowledge: Knowledge) -> Knowledge:
        """``knowledge`` with the taught entries added and the variants in place.

        A taught entry whose id the file now has too gives way to the file's
        (the file is the business's word); a variant of an entry no longer
        anywhere is skipped. Both are logged, not fatal: a lesson must never
        stop a knowledge base from loading.
        """
        file_ids = {e.id for e in knowledge.entries}
        taught = []
        for entry in self.entries:
            if entry.id in file_ids:
                log.warning("taught entry %s is now in the knowledge file; the file's is used",
                            entry.id)
            else:
                taught.append(entry)
        entries = list(knowledge.entries) + taught
        position = {e.id: i for i, e in enumerate(entries)}
        human, examples = list(knowledge.human), list(knowledge.examples)
        for entry_id, question in self.variants:
            i = position.get(entry_id)
            if entry_id == HUMAN_LABEL:
                if question not in human:
                    human.append(question)
            elif entry_id == NONE_LABEL:
                if (question, NONE_LABEL) not in examples:
                    examples.append((question, NONE_LABEL))
            elif i is None:
                log.warning("taught variant of %s skipped: no such entry", entry_id)
            elif question not in entries[i].questions:
                entries[i] = replace(entries[i], questions=entries[i].questions + (question,))
        return replace(knowledge, entries=tuple(entries), human=tuple(human),
                       examples=tuple(examples))
