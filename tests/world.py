"""The actors of one CS server with small fakes at the edges, for actor-level tests."""

import itertools

import pykka

from actors.call import ask, tell
from actors.directory import Directory
from actors.messages import Inbound, Payload, text_payload
from actors.pool import ServicerPool
from actors.session import SessionActor
from actors.system import start_actors
from conftest import make_config
from fakes import ManualClock, RecordingDeliver, ShadowMaker, settle
from waiting import wait_until

ROBOT = "cs_robot"
ENTER = Payload(type=10001, persistFlag=0)
LEAVE = Payload(type=10002, persistFlag=0)
REQUEST_HUMAN = Payload(type=10003, persistFlag=0)
MESSAGE_IDS = itertools.count(1)  # unique across worlds, as the IM server's are


class World:
    """The actors of one CS server with fakes at the edges."""

    def __init__(self, store, config=None, shadow_fail=False, ask_bot=None):
        self.config = config or make_config(idle_auto_secs=60, idle_human_secs=120)
        self.clock = ManualClock()
        self.deliver = RecordingDeliver()
        self.shadows = ShadowMaker(fail=shadow_fail)
        self.store = store
        self.actors = start_actors(self.config, robot_id=ROBOT, store=store,
                                   deliver=self.deliver, ensure_shadow=self.shadows,
                                   clock=self.clock, ask_bot=ask_bot)
        self._ids = MESSAGE_IDS

    def customer(self, sender, payload, message_id=None):
        if isinstance(payload, str):
            payload = text_payload(payload)
        message_id = message_id or next(self._ids)
        tell(self.actors.directory, Directory.route_customer,
             Inbound(message_id, sender, ROBOT, payload, 0))
        return message_id

    def asks_for_person(self, customer, text="human"):
        """The customer asks for a person; their first reply has come and all is idle."""
        self.customer(customer, text)
        self.deliver.wait_for(customer, 1)
        self.settle()

    def servicer(self, sender, customer, text):
        message = Inbound(next(self._ids), sender, f"{customer}*Shadow", text_payload(text), 0)
        tell(self.actors.directory, Directory.route_shadow, message)

    def on_duty(self, *servicers):
        for s in servicers:
            assert ask(self.actors.pool, ServicerPool.set_status, s, "on").get(timeout=2)

    def settle(self, rounds=3):
        """Wait until the directory, pool, every session and the outbox are idle."""
        for _ in range(rounds):
            settle(self.actors.pool, rounds=1)
            self.settle_sessions()
            # A conversation's messages go one at a time; a backlog that outlasts
            # the wait is left for the test's own assertions to find.
            wait_until(lambda: not self.actors.outbox.backlog(), timeout=3)

    def settle_sessions(self):
        """Wait until the directory and every session are idle (the pool may be down)."""
        settle(self.actors.directory, rounds=1)
        for customer in ask(self.actors.directory, Directory.open_sessions).get(timeout=3):
            ref = ask(self.actors.directory, Directory.session, customer).get(timeout=3)
            if ref is not None and ref.is_alive():
                try:
                    ask(ref, SessionActor.state).get(timeout=3)
                except pykka.ActorDeadError:
                    pass

    def session(self, customer):
        return Session(ask(self.actors.directory, Directory.session, customer).get(timeout=2))


class Session:
    """A session as tests see it: its state on request."""

    def __init__(self, ref):
        self.ref = ref

    def state(self):
        return ask(self.ref, SessionActor.state)


def queued_text(config, position, servicers=1, handle_secs=300.0):
    """The queue notice a customer gets at ``position`` with that many servicers on
    duty and that average handle time (actors/pool/eta.py)."""
    from actors.pool.eta import wait_words

    estimate = handle_secs * position / servicers
    zh, en = wait_words(int(estimate * 0.5), int(estimate * 1.5))
    return config.texts.queued.format(position=position, ahead=position - 1, wait_zh=zh,
                                      wait_en=en)
