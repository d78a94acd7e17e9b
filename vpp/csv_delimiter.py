"""CSV files written with another delimiter than a comma: spot them and say so.

vpp reads comma-separated files with a '.' decimal point. Spreadsheets in many locales
write semicolons (and decimal commas); a header with no comma but a semicolon, a tab or
a ``|`` is named as such, with the header as read, instead of as missing columns.
"""

from __future__ import annotations

from vpp.errors import Problem, clip

__all__ = ["delimiter_problem", "sniff_delimiter"]

#: Delimiters that spreadsheet programs write instead of a comma, by name.
_DELIMITERS = {";": "';' (semicolon)", "\t": "a tab", "|": "'|'"}


def sniff_delimiter(header: str) -> str | None:
    """The delimiter a CSV header line seems to use when it is not a comma, else None.

    A header with no comma but a semicolon, a tab or a ``|`` was written with that
    delimiter (spreadsheets in many locales write semicolons).
    """
    if "," in header:
        return None
    for delimiter in _DELIMITERS:
        if delimiter in header:
            return delimiter
    return None


def delimiter_problem(header: str, **where: str | None) -> Problem | None:
    """The problem of a CSV file written with another delimiter than a comma, or None.

    ``where``: the file, key and other :class:`~vpp.errors.Problem` fields.
    """
    delimiter = sniff_delimiter(header)
    if delimiter is None:
        return None
    return Problem(
        f"this file seems to use {_DELIMITERS[delimiter]} as delimiter; vpp reads "
        "comma-separated files",
        value=f"header {clip(header.strip(), 120)!r}",
        allowed="comma-separated values with a '.' decimal point",
        fix="save the file as comma-separated CSV (in a spreadsheet: 'CSV (comma "
        "delimited)'), with '.' as decimal point",
        **where,
    )
