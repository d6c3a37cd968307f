"""Who may call the JSON API: bearer tokens with a role, stored only as hashes.

Two roles: a *supervisor* sees and changes everything; a *servicer* sees
their own servicer record, their own customers' sessions and history, and
may transfer only their own customers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from pathlib import Path
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

SUPERVISOR, SERVICER = "supervisor", "servicer"


class Principal(NamedTuple):
    role: str
    servicer_id: str = ""

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class TokenError(ValueError):
    """The tokens file is unreadable or holds a wrong entry."""


class Tokens:
    """SHA-256 of each token -> its principal. A leaked file leaks no token."""

    def __init__(self, entries: dict[str, Principal] | None = None) -> None:
        self._entries = dict(entries or {})

    @property
    def configured(self) -> bool:
        return bool(self._entries)

    def add(self, token_sha256: str, principal: Principal) -> None:
        self._entries[token_sha256] = principal

    def principal(self, authorization: str) -> Principal | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self._entries.get(token_hash(token.strip()))

    @classmethod
    def load(cls, path: str | Path) -> Tokens:
        """``{"tokens": [{"sha256", "role", "servicer"?}]}``; see ``run.py new-token``."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TokenError(f"{path}: {exc}") from None
        tokens = cls()
        items = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise TokenError(f"{path}: expected {{\"tokens\": [...]}}")
        for i, item in enumerate(items):
            tokens.add(*_entry(item, f"{path}: tokens[{i}]"))
        return tokens


def _entry(item: Any, where: str) -> tuple[str, Principal]:
    if not isinstance(item, dict):
        raise TokenError(f"{where}: expected an object")
    digest, role = item.get("sha256"), item.get("role")
    if not isinstance(digest, str) or len(digest) != 64:
        raise TokenError(f"{where}.sha256: expected a hex SHA-256")
    if role == SUPERVISOR:
        return digest.lower(), Principal(SUPERVISOR)
    servicer = item.get("servicer")
    if role == SERVICER and isinstance(servicer, str) and servicer:
        return digest.lower(), Principal(SERVICER, servicer)
    raise TokenError(f"{where}: role must be supervisor, or servicer with a servicer id")
