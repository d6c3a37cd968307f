"""Who may call the JSON API: bearer tokens with a role, stored only as hashes.

Two roles: a *supervisor* sees and changes everything; a *servicer* sees
their own servicer record, their own customers' sessions and history, and
may transfer only their own customers.

Answers follow RFC 6750: no token, or one we do not know, is 401 with a
``WWW-Authenticate: Bearer`` challenge; a known token without the right is
403. With no token configured at all, only callers on this machine (the
loopback address) are let in, as supervisors, unless the server was told
``--open-api``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import bottle

from storage import CsError
from transport.http.web import ApiError

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


class TokenError(CsError, ValueError):
    code = "bad_tokens_file"
    http_status = 500

    """The tokens file is unreadable or holds a wrong entry."""


class Tokens:
    """SHA-256 of each token -> its principal. A leaked file leaks no token."""

    def __init__(self, entries: dict[str, Principal] | None = None, *,
                 open_to_all: bool = False) -> None:
        self._entries = dict(entries or {})
        # Only with no entries: every caller is a supervisor (--open-api).
        self.open_to_all = open_to_all

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


REALM = 'Bearer realm="wildfire-cs"'


def authenticator(tokens: Tokens) -> Callable[[], Principal]:
    """Who is calling: a Principal, or an ApiError (401 without a known token)."""

    def authenticate() -> Principal:
        if not tokens.configured:
            if tokens.open_to_all or is_loopback(bottle.request.environ.get("REMOTE_ADDR")):
                return Principal(SUPERVISOR)
            raise ApiError(403, "loopback_only", "no API token is configured: /api answers "
                           "only callers on the server's own machine")
        header = bottle.request.get_header("Authorization", "")
        principal = tokens.principal(header)
        if principal is not None:
            return principal
        scheme, _, token = header.partition(" ")
        given = scheme.lower() == "bearer" and token.strip()
        raise ApiError(401, "bad_token", "missing or unknown bearer token", headers={
            "WWW-Authenticate": REALM + (', error="invalid_token"' if given else "")})

    return authenticate


def is_loopback(address: str | None) -> bool:
    """The socket's peer, never X-Forwarded-For (any caller can write that)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


class DemoTokens(NamedTuple):
    """A demo run's tokens, which its landing page links with (demo mode only)."""

    supervisor: str
    servicers: dict[str, str]

    def dump(self, path: Path) -> None:
        """Written readable by its owner alone: the tokens are in plain."""
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"supervisor": self.supervisor, "servicers": self.servicers}, out)

    @classmethod
    def load(cls, path: str | Path) -> DemoTokens:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(str(data["supervisor"]),
                       {str(k): str(v) for k, v in data["servicers"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TokenError(f"{path}: not a demo tokens file ({exc})") from None
