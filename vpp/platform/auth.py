"""Who calls: the API key of a request.

A key comes in ``X-API-Key: vpp_...`` or ``Authorization: Bearer vpp_...``. No key,
an unknown, malformed or revoked one: 401, answered by :class:`KeyGate` before anything
of the request is read (a malformed body without a key is 401, not 422). A key whose
role may not do what is asked: 403 (:func:`require`). The key's text is never logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from vpp.platform.keys import Principal, authenticate, cached_principal

__all__ = ["API_PREFIX", "OPEN_PATHS", "KeyGate", "caller", "require"]

#: Paths under this prefix need a key, except :data:`OPEN_PATHS`.
API_PREFIX = "/api/v1/"
OPEN_PATHS = frozenset({"/api/v1/health"})
_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key vpp_...")
_BEARER = HTTPBearer(auto_error=False, description="an API key vpp_... as a bearer token")
_NO_KEY = "no API key: send X-API-Key or Authorization: Bearer"
_BAD_KEY = "API key not valid (unknown, malformed or revoked)"


def _key_text(headers: dict[bytes, bytes]) -> str | None:
    key = headers.get(b"x-api-key")
    if key:
        return key.decode("latin-1")
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _route_path(scope: dict) -> str:
    """The request's path in the app: without the root path a reverse proxy serves it
    under (``vpp serve --root-path``; the server puts it before the path)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "")).rstrip("/")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


class KeyGate:
    """ASGI middleware: every API path but :data:`OPEN_PATHS` needs a valid key (401
    otherwise); the principal is left in the request's state for :func:`caller`."""

    def __init__(self, app: Any, platform: Any) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = _route_path(scope)
        if scope["type"] != "http" or not path.startswith(API_PREFIX) or path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        text = _key_text(dict(scope.get("headers") or []))
        principal = None
        if text:  # a cached key needs no thread: no database is read
            principal = cached_principal(self.platform.sessions, text)
            if principal is None:
                principal = await run_in_threadpool(authenticate, self.platform.sessions, text)
        if principal is None:
            body = json.dumps({"detail": _BAD_KEY if text else _NO_KEY, "problems": []})
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


async def caller(
    request: Request,
    key: Annotated[str | None, Depends(_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Principal:
    """The request's principal (checked by :class:`KeyGate`; checked here again when the
    app runs without it). A coroutine: FastAPI runs a plain function dependency in a
    worker thread, a hop per request for what is a look-up in the request's state."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    text = key or (bearer.credentials if bearer else None)
    if not text:
        raise HTTPException(401, _NO_KEY, headers={"WWW-Authenticate": "Bearer"})
    sessions = request.app.state.platform.sessions
    principal = await run_in_threadpool(authenticate, sessions, text)
    if principal is None:
        raise HTTPException(401, _BAD_KEY, headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency letting only keys of ``roles`` through (403 for the others)."""

    async def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                403, f"a {principal.role} key may not do this; needs: {', '.join(roles)}"
            )
        return principal

    return check
