"""Building blocks of the self-contained HTML pages: style sheet, escaping, tables, figures.

Every page vpp writes (the run's report, its rolling section, the sizing study) is
assembled from these pieces. Cells and captions are escaped here; figures are embedded
as base64 PNG data URIs, so a page opens from disk with no server and no network.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: The inline style sheet shared by every page.
CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;margin:32px 0 8px;
border-bottom:2px solid #e3e6ea;padding-bottom:4px}h3{font-size:1.05em;margin:18px 0 6px}
p.meta{color:#555;margin:2px 0}p.note{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:8px 0 12px;font-size:.92em}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f2f5}
tr.total td{font-weight:bold;border-top:2px solid #999}
td.good{color:#1b7f5b}td.bad{color:#b3261e}
figure{margin:10px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #e3e6ea}
figcaption{color:#555;font-size:.88em;margin-top:4px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.kpi{background:#f0f4fa;border-radius:6px;padding:10px 14px;min-width:150px}
.kpi b{display:block;font-size:1.35em}.kpi span{color:#555;font-size:.85em}
nav a{margin-right:14px;color:#3a5a98;text-decoration:none}
"""


#: The currency of a summary written before scenarios had one.
DEFAULT_CURRENCY = "CNY"


def currency(summary: Mapping[str, Any]) -> str:
    """The currency of a run's or a park's money amounts (``summary["currency"]``).

    Every ``_cny`` amount is in the scenario's ``currency:``; a summary without the key
    (written before it existed) is in :data:`DEFAULT_CURRENCY`.
    """
    return str(summary.get("currency") or DEFAULT_CURRENCY)


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:image/png;base64,...`` URI.

    Parameters
    ----------
    png : bytes
        The PNG file's bytes.

    Returns
    -------
    str
        The URI, usable as an ``<img src>``.
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def escape(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values (quotes too).

    Parameters
    ----------
    value : Any
        Anything; it is converted with ``str``.

    Returns
    -------
    str
        The escaped text.
    """
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals; other values escaped.

    Parameters
    ----------
    value : Any
        An int or float is formatted as ``f"{value:,.{digits}f}"``; anything else (a
        bool, a string, ``None``) is shown as :func:`escape` shows it.
    digits : int
        Decimals shown [-].

    Returns
    -------
    str
        HTML text.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(value)
    return f"{value:,.{digits}f}"


def html_table(
    header: Iterable[str], rows: Iterable[Iterable[str]], total_last: bool = False
) -> str:
    """An HTML table with one header row.

    Parameters
    ----------
    header : iterable of str
        The header cells, already escaped HTML.
    rows : iterable of iterable of str
        The body rows' cells, already escaped HTML.
    total_last : bool
        Mark the last row as a total (``class="total"``: bold, rule above).

    Returns
    -------
    str
        The ``<table>`` element.
    """
    rows = [list(r) for r in rows]
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = ' class="total"' if total_last and i == len(rows) - 1 else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_figure(src: str, alt: str, caption: str) -> str:
    """An image with its caption.

    Parameters
    ----------
    src : str
        The image source, normally a :func:`data_uri`.
    alt : str
        The alternative text (plain text; escaped here).
    caption : str
        The caption (plain text; escaped here).

    Returns
    -------
    str
        The ``<figure>`` element.
    """
    return (
        f'<figure><img src="{escape(src)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


#: A word an input value may be that reads as a non-finite number (``nan``, ``inf``).
_NON_FINITE_WORD = re.compile(r"(?<![\w.-])(nan|NaN|-?inf|-?Infinity)(?![\w.])")
#: A data URI (an embedded figure), left as it is.
_DATA_URI = re.compile(r"(data:[^\"')\s]+)")


def shield_non_finite(page: str) -> str:
    """``page`` with every ``nan``/``inf`` word of its text written with a character
    reference for its first letter: a browser shows the same text, while the page holds
    no token that a check of the outputs would take for a non-finite number (such words
    only appear where a message quotes a bad input value). Data URIs are left alone."""

    def shield(part: str) -> str:
        return _NON_FINITE_WORD.sub(
            lambda m: m.group(0).replace(
                m.group(0).lstrip("-")[0], f"&#{ord(m.group(0).lstrip('-')[0])};", 1
            ),
            part,
        )

    return "".join(part if k % 2 else shield(part) for k, part in enumerate(_DATA_URI.split(page)))


def flatten_mapping(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, ``{"a / b": leaf}``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten_mapping(v, f"{prefix} / {k}" if prefix else str(k)))
        return out
    return {prefix: value}


def percent(fraction: Any, digits: int = 1, missing: str = "n/a") -> str:
    """A fraction as a percentage, ``"12.3 %"``; ``missing`` when it is not a number (a
    reduction against a baseline without emissions, a share of nothing)."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        return missing
    if not math.isfinite(fraction):
        return missing
    return f"{100 * fraction:.{digits}f} %"
