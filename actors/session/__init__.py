"""One customer's session: a Pykka actor and the helpers it is composed of."""

from actors.session.actor import SessionActor, SessionDeps, ShadowError

__all__ = ["SessionActor", "SessionDeps", "ShadowError"]
