"""What supervisors taught at run time, laid on top of the knowledge base file.

A lesson is a variant of an existing entry or a new entry. The file stays
the business's own; lessons live in Redis (storage/teaching.py) and are
applied to whatever file is loaded, at start and at every reload, so
reloading an edited file never forgets what was taught.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from actors.autoreply.knowledge import Entry, Knowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lessons:
    entries: tuple[Entry, ...] = ()  # created through the API
    variants: tuple[tuple[str, str], ...] = ()  # (entry id, question), oldest first

    def with_variant(self, entry_id: str, question: str) -> Lessons:
        if (entry_id, question) in self.variants:
            return self
        return replace(self, variants=self.variants + ((entry_id, question),))

    def with_entry(self, entry: Entry) -> Lessons:
        kept = tuple(e for e in self.entries if e.id != entry.id)
        return replace(self, entries=kept + (entry,))

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
        for entry_id, question in self.variants:
            i = position.get(entry_id)
            if i is None:
                log.warning("taught variant of %s skipped: no such entry", entry_id)
            elif question not in entries[i].questions:
                entries[i] = replace(entries[i], questions=entries[i].questions + (question,))
        return replace(knowledge, entries=tuple(entries))
