"""The platform's request text: one constrained string type for every text field of a
request body.

A request's text is stored (PostgreSQL ``text`` cannot hold U+0000; a lone surrogate
cannot be encoded as UTF-8) and shown back (dashboard, API), so control characters are
refused with a 422 naming the field, whatever the database: C0 (U+0000 to U+001F),
DEL (U+007F), C1 (U+0080 to U+009F) and lone surrogates (U+D800 to U+DFFF).
:data:`Text` refuses them all; :data:`FreeText` (a free note) allows tab, line feed and
carriage return, so a note may run over several lines. :class:`ControlGate` refuses them
in a request's path and query (park and site names, filters) the same way.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import unquote_plus

from pydantic import AfterValidator
from starlette.responses import JSONResponse

__all__ = ["ControlGate", "FreeText", "Text", "refuse_control"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control(value: str, *, lines: bool = False) -> str:
    """``value`` unchanged, or ValueError naming the first control character and where.

    Parameters
    ----------
    value : str
        The text received.
    lines : bool
        Allow tab, line feed and carriage return.
    """
    found = (_CONTROL_BUT_LINES if lines else _CONTROL).search(value)
    if found is not None:
        allowed = "tab, line feed and carriage return aside, " if lines else ""
        raise ValueError(
            f"control character U+{ord(found.group()):04X} at position {found.start()} "
            f"is not allowed ({allowed}no control characters); remove it"
        )
    return value


def _free(value: str) -> str:
    return refuse_control(value, lines=True)


#: Text without control characters (names, references, labels, channels, times).
Text = Annotated[str, AfterValidator(refuse_control)]
#: Free text: tab, line feed and carriage return allowed, no other control character.
FreeText = Annotated[str, AfterValidator(_free)]


class ControlGate:
    """ASGI middleware: a request whose path or query (percent-decoded) holds a control
    character is answered 422 naming ``path`` or ``query``, before any route reads it
    (a park or site name with U+0000 reached PostgreSQL: a 500)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
            for field, text in (("path", scope.get("path", "")), ("query", query)):
                try:
                    refuse_control(text)
                except ValueError as error:
                    body = {
                        "detail": f"field {field}: {error}",
                        "problems": [
                            {
                                "field": field,
                                "row": None,
                                "value": repr(text[:200]),
                                "message": str(error),
                                "allowed": "text without control characters",
                            }
                        ],
                    }
                    await JSONResponse(body, status_code=422)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
