"""The App Server: the only holder of the IM admin secret.

It creates the CS Robot at set-up and Shadows on demand, for a CS server
that proves itself with an HMAC-signed, replay-protected request. It does
nothing else: a Shadow id must fit the configured pattern for the customer
it stands for.
"""

from __future__ import annotations

import logging
from typing import Any

import bottle

from actors.config import shadow_id_for
from actors.messages import ShadowInfo
from storage import CsError
from transport.appserver.signing import NonceCache, Nonces, verify_hmac
from transport.http.client import HttpError
from transport.http.web import ApiError, json_body, json_error_app
from transport.wildfire.api import CODE_NOT_EXIST, AdminApi, ImApiError

log = logging.getLogger(__name__)


ROBOT_USER_TYPE = 1  # WildfireChat's user type of a robot


class IdTaken(CsError):
    code = "id_taken"
    http_status = 403

    """The id names a real user, not a robot: creating it would take over their account."""


def _user_or_empty(admin: AdminApi, user_id: str) -> dict[str, Any]:
    try:
        return admin.get_user(user_id)
    except ImApiError as exc:
        if exc.im_code != CODE_NOT_EXIST:
            raise
        return {}


def refuse_real_user(admin: AdminApi, robot_id: str) -> None:
    existing = _user_or_empty(admin, robot_id)
    if existing and existing.get("type") != ROBOT_USER_TYPE:
        raise IdTaken(robot_id)


def create_shadow(admin: AdminApi, *, customer_id: str, shadow_id: str, secret: str,
                  callback: str, owner: str) -> ShadowInfo:
    """Create (or refresh) the Shadow robot with the customer's name and portrait.

    Raises:
        IdTaken: the Shadow id is a real user's id.
    """
    refuse_real_user(admin, shadow_id)
    user = _user_or_empty(admin, customer_id)
    name = str(user.get("displayName") or user.get("name") or customer_id)
    portrait = str(user.get("portrait") or "")
    admin.create_robot(user_id=shadow_id, name=shadow_id, display_name=name,
                       portrait=portrait, owner=owner, secret=secret, callback=callback)
    return ShadowInfo(shadow_id, name, portrait)


def make_appserver_app(*, admin: AdminApi, key: str, robot_id: str,
                       shadow_id_pattern: str, nonces: Nonces | None = None) -> bottle.Bottle:
    """``nonces``: the replay cache; Redis-backed in production, in memory by default."""
    app = json_error_app()
    nonces = nonces or NonceCache()

    def signed_body() -> dict[str, Any]:
        raw = bottle.request.body.read()
        bottle.request.body.seek(0)
        reason = verify_hmac(key, bottle.request.method, bottle.request.path,
                             bottle.request.headers, raw, nonces)
        if reason:
            log.warning("refused App Server call from %s: %s",
                        bottle.request.remote_addr, reason)
            raise ApiError(403, "bad_signature", reason)
        return json_body()

    def text_field(body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value or len(value) > 512:
            raise ApiError(400, "bad_request", f"{name} must be a non-empty string")
        return value

    @app.post("/api/shadows")
    def shadows() -> dict[str, Any]:
        body = signed_body()
        customer_id = text_field(body, "customerId")
        shadow_id = text_field(body, "shadowId")
        if shadow_id != shadow_id_for(shadow_id_pattern, customer_id):
            raise ApiError(403, "bad_shadow_id", "shadowId does not fit the Shadow pattern")
        try:
            shadow = create_shadow(admin, customer_id=customer_id, shadow_id=shadow_id,
                                   secret=text_field(body, "secret"),
                                   callback=text_field(body, "callback"), owner=robot_id)
        except IdTaken:
            log.warning("refused to create Shadow %s: a real user has that id", shadow_id)
            raise ApiError(403, "id_taken", "a real user has that id") from None
        except (ImApiError, HttpError) as exc:
            log.error("shadow %s not created: %s", shadow_id, exc)
            raise ApiError(502, "im_error", "the IM server refused or did not answer") from None
        return {"shadowId": shadow.shadow_id, "name": shadow.customer_name,
                "portrait": shadow.customer_portrait}

    @app.post("/api/cs-robot")
    def cs_robot() -> dict[str, Any]:
        body = signed_body()
        try:
            refuse_real_user(admin, robot_id)
            admin.create_robot(user_id=robot_id, name=robot_id,
                               display_name=str(body.get("name") or "客服"),
                               portrait=str(body.get("portrait") or ""), owner=robot_id,
                               secret=text_field(body, "secret"),
                               callback=text_field(body, "callback"))
        except IdTaken:
            log.warning("refused to create the CS Robot %s: a real user has that id", robot_id)
            raise ApiError(403, "id_taken", "a real user has that id") from None
        except (ImApiError, HttpError) as exc:
            log.error("CS Robot not created: %s", exc)
            raise ApiError(502, "im_error", "the IM server refused or did not answer") from None
        return {"robotId": robot_id}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    return app
