"""The platform's request text: one constrained string type for every text field of a
request body.

A request's text is stored (PostgreSQL ``text`` cannot hold U+0000; a lone surrogate
cannot be encoded as UTF-8) and shown back (dashboard, API), so control characters are
refused with a 422 naming the field, whatever the database: C0 (U+0000 to U+001F),
DEL (U+007F), C1 (U+0080 to U+009F) and lone surrogates (U+D800 to U+DFFF).
:data:`Text` refuses them all; :data:`FreeText` (a free note) allows tab, line feed and
carriage return, so a note may run over several lines.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["FreeText", "Text", "refuse_control"]

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
