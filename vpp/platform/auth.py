"""Who calls: the API key of a request, as a FastAPI dependency.

A key comes in ``X-API-Key: vpp_...`` or ``Authorization: Bearer vpp_...``. No key,
an unknown, malformed or revoked one: 401. A key whose role may not do what is asked:
403 (:func:`require`). The key's text is never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from vpp.platform.keys import Principal, authenticate

__all__ = ["caller", "require"]

_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key vpp_...")
_BEARER = HTTPBearer(auto_error=False, description="an API key vpp_... as a bearer token")


def caller(
    request: Request,
    key: Annotated[str | None, Depends(_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Principal:
    """The request's principal (401 without a valid key)."""
    text = key or (bearer.credentials if bearer else None)
    if not text:
        raise HTTPException(
            401,
            "no API key: send X-API-Key or Authorization: Bearer",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(request.app.state.platform.sessions, text)
    if principal is None:
        raise HTTPException(
            401,
            "API key not valid (unknown, malformed or revoked)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency letting only keys of ``roles`` through (403 for the others)."""

    def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                403, f"a {principal.role} key may not do this; needs: {', '.join(roles)}"
            )
        return principal

    return check
