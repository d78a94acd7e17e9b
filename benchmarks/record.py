"""Record a planning benchmark's figures: a key of ``results.json``, a section of
``results.txt`` (the other keys and sections, such as ``bench_dispatch.py``'s, are kept).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def record(key: str, figures: dict[str, Any], lines: list[str], folder: Path = HERE) -> None:
    """Put ``figures`` under ``key`` in ``results.json`` and ``lines`` as the section
    ``== key ==`` of ``results.txt`` (replacing an earlier one)."""
    path = folder / "results.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[key] = figures
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    text_path = folder / "results.txt"
    text = text_path.read_text() if text_path.is_file() else ""
    head, end = f"== {key} ==\n", f"== end {key} ==\n"
    if head in text and end in text:
        before, rest = text.split(head, 1)
        text = before + rest.split(end, 1)[1]
    text_path.write_text(text.rstrip("\n") + "\n\n" + head + "\n".join(lines) + "\n" + end)
