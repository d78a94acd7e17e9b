"""A request body limit for the ASGI app: larger bodies are answered 413.

A declared ``Content-Length`` above the limit is refused before anything is read; a
body streamed without one (chunked) is counted as it arrives and refused as soon as it
passes the limit. The app never holds more than the limit of one body in memory.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

#: Default largest request body [bytes]: a day of 15-minute readings of every channel
#: of a large site is a few hundred kB.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes; send several smaller batches"


class BodyLimit:
    """ASGI middleware refusing request bodies larger than ``max_bytes`` with 413."""

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _answer(send, 400, "Content-Length is not a number")
                return
            if length > self.max_bytes:
                await _answer(send, 413, _too_large(self.max_bytes))
                return
        received = 0
        started = False

        async def limited() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, _too_large(self.max_bytes))
            return message

        async def watched(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _answer(send, 413, str(exc.detail))


async def _answer(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "problems": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
