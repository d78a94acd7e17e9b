"""Which files a scenario may name: those inside its project folder.

A scenario (or park, or sweep) file names other files: ``extends:``, a park's site
``file:``, a sweep's ``scenario:``, series and weather files, EV sessions, the folder of
PV forecasts. A file received from someone else must not make vpp read, and then quote
in a message or copy into a report, a file elsewhere on the machine. So every such path,
once made absolute and with symbolic links followed, must lie inside the **project
folder**: the parent of the folder holding the file given to vpp (for
``scenarios/x.yaml``, the folder that holds ``scenarios/``; a scenario may use
``../data/load.csv`` or ``../forecasts/...``, siblings of its own folder). When that
parent would be the file system's root, the project folder is the file's own folder.

``allow_outside=True`` (``--allow-outside`` on the command line) lifts the rule.
"""

from __future__ import annotations

import os
from pathlib import Path

from vpp.errors import short

__all__ = ["OUTSIDE_FIX", "check_inside", "is_inside", "project_root"]

#: How to fix a path outside the project folder.
OUTSIDE_FIX = (
    "move the file into the project folder, or run vpp with --allow-outside "
    "(allow_outside=True in Python) if you trust this file"
)


def project_root(top_file: str | Path) -> Path:
    """The project folder of the file given to vpp: the parent of its folder.

    Symbolic links are followed. The file's own folder when its parent is the file
    system's root (a file in ``/tmp`` may not reach all of ``/``).
    """
    folder = Path(os.path.realpath(top_file)).parent
    parent = folder.parent
    return folder if parent == folder or parent == Path(parent.anchor) else parent


def is_inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` lies inside ``root`` once both are made absolute, links followed."""
    real = Path(os.path.realpath(path))
    return real.is_relative_to(Path(os.path.realpath(root)))


def check_inside(path: str | Path, root: str | Path | None) -> None:
    """Raise ValueError (for pydantic validators) when ``path`` is outside ``root``.

    ``root`` None: no rule (``allow_outside``, or a scenario built in Python).
    """
    if root is not None and not is_inside(path, root):
        raise ValueError(f"{outside_message(path, root)}; {OUTSIDE_FIX}")


def outside_message(path: str | Path, root: str | Path) -> str:
    """The message for a path outside the project folder (names the path, not its content)."""
    return (
        f"the path {short(str(path), 160)} lies outside the project folder {root} (the "
        "parent of the folder of the file given to vpp)"
    )
