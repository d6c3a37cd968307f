"""A supervisor watching a live conversation from their own IM client.

``/monitor <customer>`` to the CS Robot (a supervisor only) makes the
customer's Shadow copy the conversation to the supervisor, both sides marked
who said it, starting with the recent history. What the supervisor writes
in that Shadow chat is a whisper: it reaches the servicer only, never the
customer; ``/takeover`` there moves the customer to the supervisor (who must
be on duty; the servicer is told, as with any transfer).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from actors.call import tell
from actors.commands import is_takeover
from actors.directory import Directory
from actors.messages import Inbound, Monitor, Payload, text_payload
from actors.pool import ServicerPool
from actors.session.deps import ShadowError
from actors.session.transcript import transcript

if TYPE_CHECKING:
    from actors.session.deps import SessionDeps
    from actors.session.state import SessionState
    from actors.session.voice import Voice

log = logging.getLogger(__name__)


class Watch:
    __slots__ = ("_state", "_voice", "_deps")

    def __init__(self, state: SessionState, voice: Voice, deps: SessionDeps) -> None:
        self._state = state
        self._voice = voice
        self._deps = deps

    def changed(self, notice: Monitor) -> None:
        state, texts = self._state, self._deps.config.texts
        if not notice.watch:
            state.monitors = tuple(m for m in state.monitors if m != notice.supervisor)
            self._tell(notice.supervisor, texts.monitor_stopped.format(
                customer_id=state.customer_id))
            return
        if state.shadow is None:  # the conversation has not had a person yet
            try:
                state.shadow = self._deps.ensure_shadow(state.customer_id)
            except ShadowError:
                log.exception("no shadow for %s to watch through", state.customer_id)
                return
            tell(self._deps.directory, Directory.shadow_bound, state.shadow.shadow_id,
                 state.customer_id)
        if notice.supervisor not in state.monitors:
            state.monitors += (notice.supervisor,)
        self._tell(notice.supervisor, texts.monitor_started.format(
            customer_id=state.customer_id))
        try:
            entries = self._deps.store.history(state.customer_id,
                                               self._deps.config.history_on_seat)
        except Exception:
            log.exception("history of %s not read for its supervisor", state.customer_id)
            return
        text = transcript(entries, state.customer_id, self._deps.control_types)
        if text:
            self._tell(notice.supervisor, texts.servicer_history.format(history=text))

    def customer_wrote(self, payload: Payload) -> None:
        """Copy the customer's message to every supervisor watching."""
        if self._state.monitors:
            self._voice.copy_to_monitors(self._deps.config.texts.copy_customer, payload)

    def whisper(self, message: Inbound) -> None:
        """A watching supervisor wrote in the Shadow chat: to the servicer only."""
        state, texts = self._state, self._deps.config.texts
        if is_takeover(message.payload.text):
            tell(self._deps.pool, ServicerPool.transfer, state.customer_id, message.sender)
        elif state.servicer is not None and state.shadow is not None:
            self._voice.to_servicer(text_payload(texts.whisper.format(
                supervisor=message.sender, text=message.payload.text)))

    def _tell(self, supervisor: str, text: str) -> None:
        assert self._state.shadow is not None
        self._voice.as_shadow(self._state.shadow.shadow_id, supervisor, text_payload(text))
