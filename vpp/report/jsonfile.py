"""JSON output files: finite numbers only, or an error that names the key.

``json.dumps`` writes ``NaN`` and ``Infinity`` by default, which is not JSON: most
readers refuse the file. A non-finite number can only reach an output through a bug or
an input that validation let through, so :func:`write_json` raises
:class:`vpp.errors.InternalError` (exit 4) naming the file and the key path
(``baseline.peak_import_kw.2026-01``) instead of writing it, or writing ``null`` and
hiding it.
"""

from __future__ import annotations

import json
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from vpp.errors import InternalError, Problem, clip


def non_finite_keys(value: Any, where: str = "") -> list[str]:
    """Key paths of every NaN or infinity in ``value`` (dicts, lists, tuples, numbers).

    Parameters
    ----------
    value : Any
        Plain data as it goes to ``json.dumps``.
    where : str
        The key path of ``value`` itself (empty for the top).

    Returns
    -------
    list of str
        ``"a.b[2].c"`` for each non-finite number, in document order.
    """
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            keys = [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
            stack.extend(reversed(keys))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(item)]))
        elif isinstance(item, Real) and not isinstance(item, Integral) and not math.isfinite(item):
            found.append(path or "(the whole document)")
    return found


def jsonable(value: Any) -> Any:
    """``value`` as plain data for ``json.dumps``: numpy scalars become Python numbers.

    Parameters
    ----------
    value : Any
        A summary: dicts, lists and tuples of numbers, strings and numpy scalars.

    Returns
    -------
    Any
        The same data with every dict key a ``str``, every tuple a list and every object
        with an ``item()`` method (a numpy scalar) replaced by what ``item()`` returns.
        Non-finite numbers are kept; :func:`dumps_json` refuses them.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def dumps_json(
    value: Any, *, file: str, indent: int | None = 2, sort_keys: bool = False, ascii: bool = False
) -> str:
    """``value`` as JSON text (a final newline added), refusing NaN and infinity.

    Parameters
    ----------
    value : Any
        Plain data (dicts, lists, str, int, float, bool, None).
    file : str
        The output file's name, for the message.
    indent : int or None
        As for :func:`json.dumps`.
    sort_keys : bool
        As for :func:`json.dumps`.
    ascii : bool
        ``ensure_ascii`` of :func:`json.dumps`.

    Raises
    ------
    InternalError
        A NaN or infinity in ``value``: the message names ``file`` and the key paths.
    """
    bad = non_finite_keys(value)
    if bad:
        shown = ", ".join(clip(k, 120) for k in bad[:5]) + (
            f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        )
        raise InternalError(
            Problem(
                f"internal: non-finite value in key {shown}; the file was not written",
                file=file,
                value="NaN or infinity",
                allowed="finite numbers",
                fix="this is a bug in vpp or an input its validation let through; "
                "please report it with the scenario",
            )
        )
    text = json.dumps(
        value, indent=indent, sort_keys=sort_keys, ensure_ascii=ascii, allow_nan=False
    )
    return text + "\n"


def write_json(path: Path, value: Any, *, sort_keys: bool = False, ascii: bool = False) -> None:
    """Write ``value`` to ``path`` as indented UTF-8 JSON (see :func:`dumps_json`)."""
    text = dumps_json(value, file=path.name, sort_keys=sort_keys, ascii=ascii)
    path.write_text(text, encoding="utf-8")
