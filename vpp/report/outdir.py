"""Which output folders vpp may write, and the manifest that marks the folders it wrote.

Every output folder gets ``.vpp-manifest.json``: the tool, its version, the kind of
output (``run``, ``park``, ``sizing``, ...) and every file with its size and SHA-256.
It holds no time and no command line, so that identical runs give byte-identical
folders (the folder's own time stamps say when).

:func:`check_output_folder` decides, before anything is solved and again when writing,
whether a path may become an output folder. Refused, with :class:`OutputError` (exit 2):

- the root, the working folder or one of its parents;
- a folder that holds an input of the command (``vpp compare A B --out A``);
- a path whose parent is a file, or whose nearest existing parent cannot be written;
- an existing file, a mount point, a symbolic link to nothing;
- an existing folder holding any file that vpp did not write there. vpp wrote a file
  when the folder's manifest lists it, or (folders of vpp before the manifest) when
  its name is one vpp writes and the folder has a ``summary.json`` or another main
  file of an output.

An empty folder may be used. Folders of other vpp outputs nested inside (the default
``runs/<scenario>/forecast-<day>/`` inside ``runs/<scenario>/``) are *kept*: the
writer carries them into the new folder (:mod:`vpp.report.atomic`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from vpp.errors import OutputError, Problem, clip

MANIFEST_NAME = ".vpp-manifest.json"
#: Version of the manifest's layout.
MANIFEST_FORMAT = 1
#: A manifest larger than this is not one vpp wrote [bytes].
_MANIFEST_MAX_BYTES = 64 * 2**20
#: Stop looking into a folder after this many files vpp did not write.
_FOREIGN_SHOWN = 5

_RUN = (
    "schedule.parquet",
    "schedule.csv",
    "summary.json",
    "bill.csv",
    "dispatch.png",
    "report.html",
    "figures/*.png",
)
#: Files that vpp wrote before output folders had a manifest (relative, ``*`` per level).
LEGACY_FILES = (
    *_RUN,
    *(f"sites/*/{name}" for name in _RUN),
    *(f"dispatch/{name}" for name in _RUN),
    "park_summary.json",
    "park_plan.csv",
    "park_plan.parquet",
    "park.png",
    "final_soc.json",
    "sizes.csv",
    "cash_flows.csv",
    "cash_flows.png",
    "sized-scenario.yaml",
    "frontier.csv",
    "frontier.png",
    "results.parquet",
    "results.csv",
    "sweep.json",
    "*.png",
    "compare.csv",
    "pv_forecast.parquet",
    "pv_forecast.csv",
    "evaluation.csv",
)
#: One of these at the top makes a folder without manifest an older vpp output.
LEGACY_ANCHORS = (
    "summary.json",
    "park_summary.json",
    "sweep.json",
    "compare.csv",
    "pv_forecast.csv",
    "evaluation.csv",
)
#: Sub-folders that are part of an older vpp output (not outputs of their own).
_LEGACY_PARTS = ("figures", "sites", "dispatch")


@dataclass
class FolderContents:
    """What an existing folder holds, as far as replacing it goes.

    Attributes
    ----------
    manifest : dict or None
        The folder's own manifest, when it has a readable one.
    legacy : bool
        No manifest, but files of an older vpp output (see :data:`LEGACY_ANCHORS`).
    kept : list of str
        Nested folders that are vpp outputs of their own (relative, ``/``-separated).
    foreign : list of str
        Files vpp did not write (relative); at most a few are listed, see ``more``.
    more : bool
        Whether the search stopped before finding every foreign file.
    problem : str or None
        Why the manifest cannot be read, if it cannot.
    """

    manifest: dict | None = None
    legacy: bool = False
    kept: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    more: bool = False
    problem: str | None = None

    @property
    def replaceable(self) -> bool:
        """Whether vpp may replace the folder (every file in it is its own)."""
        return not self.foreign and self.problem is None

    @property
    def is_output(self) -> bool:
        """Whether the folder is a vpp output, or holds nothing but vpp outputs."""
        return self.replaceable and (self.manifest is not None or self.legacy or bool(self.kept))


class _Enough(Exception):
    """Enough foreign files found to refuse the folder."""


def read_manifest(folder: Path) -> tuple[dict | None, str | None]:
    """The folder's manifest, or why it cannot be used.

    Returns
    -------
    (dict or None, str or None)
        ``(manifest, None)``; ``(None, None)`` when there is none; ``(None, why)`` when
        ``.vpp-manifest.json`` exists but is not a manifest vpp wrote.
    """
    path = folder / MANIFEST_NAME
    if not os.path.lexists(path):
        return None, None
    try:
        if not path.is_file() or path.is_symlink():
            return None, f"{MANIFEST_NAME} is not a regular file"
        if path.stat().st_size > _MANIFEST_MAX_BYTES:
            return None, f"{MANIFEST_NAME} is larger than any manifest vpp writes"
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{MANIFEST_NAME} cannot be read ({clip(str(exc), 120)})"
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("tool") != "vpp" or not isinstance(files, list):
        return None, f"{MANIFEST_NAME} was not written by vpp"
    for entry in files:
        name = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/"):
            return None, f"{MANIFEST_NAME} lists a file that is not inside the folder"
    return data, None


def _legacy_file(rel: str) -> bool:
    parts = rel.split("/")
    for pattern in LEGACY_FILES:
        wanted = pattern.split("/")
        if len(wanted) == len(parts) and all(map(fnmatchcase, parts, wanted)):
            return True
    return False


def folder_contents(folder: Path) -> FolderContents:
    """Sort the files of an existing folder into vpp's own, nested outputs and foreign.

    The search never follows symbolic links (a link is a file of its own) and stops
    after a few foreign files, so a large folder that is not an output is refused fast.
    """
    contents = FolderContents()
    contents.manifest, contents.problem = read_manifest(folder)
    own: set[str] = set()
    own_dirs: set[str] = set()
    if contents.manifest is not None:
        own = {entry["path"] for entry in contents.manifest["files"]} | {MANIFEST_NAME}
        for name in own:
            parts = name.split("/")[:-1]
            own_dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    legacy_files: list[str] = []

    def foreign(rel: str) -> None:
        contents.foreign.append(rel)
        if len(contents.foreign) >= _FOREIGN_SHOWN:
            raise _Enough

    def walk(path: Path, rel: str) -> None:
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:  # a folder vpp cannot read is not one it wrote
            foreign(f"{rel or './'} (cannot be read: {exc.strerror or exc})")
            return
        for entry in entries:
            sub = f"{rel}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if contents.manifest is not None:
                    part = sub in own_dirs
                else:
                    part = sub.split("/")[0] in _LEGACY_PARTS
                if not part and marked_output(Path(entry.path)):
                    contents.kept.append(sub)
                else:
                    walk(Path(entry.path), sub + "/")
            elif contents.manifest is not None:
                if sub not in own:
                    foreign(sub)
            elif sub == MANIFEST_NAME and contents.problem:
                foreign(sub)
            elif _legacy_file(sub):
                legacy_files.append(sub)
            else:
                foreign(sub)

    try:
        walk(folder, "")
    except _Enough:
        contents.more = True
        return contents
    if contents.manifest is None and legacy_files:
        if any(name in LEGACY_ANCHORS for name in legacy_files):
            contents.legacy = True
        else:  # files named as vpp names them, but not a vpp output
            contents.foreign.extend(legacy_files[:_FOREIGN_SHOWN])
            contents.more = len(legacy_files) > _FOREIGN_SHOWN
    return contents


def marked_output(folder: Path) -> bool:
    """Whether ``folder`` is marked as a vpp output at its top: it holds the manifest or,
    written by an older vpp, one of :data:`LEGACY_ANCHORS`.

    Decided from the top alone, so that :func:`folder_contents` reads each folder of a
    tree once. A nested folder so marked is kept whole (carried into the new output),
    whatever else it holds: keeping is the safe side.
    """
    return any((folder / name).is_file() for name in (MANIFEST_NAME, *LEGACY_ANCHORS))


def _refuse(shown: str, message: str, *, value: str | None = None, fix: str | None = None):
    return OutputError(
        Problem(
            message,
            file=shown,
            value=value,
            allowed=f"a new folder, an empty one, or a folder vpp wrote (it holds {MANIFEST_NAME})",
            fix=fix or "choose another output folder (--out), or move or remove this one yourself",
        )
    )


def _probe_writable(folder: Path, shown: str) -> None:
    """Create and remove an empty folder in ``folder``, so that a place that refuses writes
    whatever its permission bits say (a read-only mount, ``/proc``, a full quota, root on a
    read-only network share) is found before anything is solved, not after."""
    try:
        probe = tempfile.mkdtemp(prefix=".vpp-probe-", dir=folder)
    except OSError as exc:
        raise _refuse(
            shown,
            "the output folder cannot be written there",
            value=f"{clip(str(folder), 200)}: {exc.strerror or exc}",
            fix="choose a folder you can write (--out)",
        ) from None
    try:
        os.rmdir(probe)
    except OSError:
        pass


def check_output_folder(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Check that ``path`` may become an output folder; nothing is left written.

    Called by the command line before anything is solved, and by
    :func:`vpp.report.atomic.write_folder_atomically` again before it writes.

    Parameters
    ----------
    path : str or pathlib.Path
        The output folder (``--out``).
    inputs : iterable of str or pathlib.Path
        Files and folders the command reads; the output folder may not hold one.

    Returns
    -------
    pathlib.Path
        The folder as an absolute path, symbolic links resolved.

    Raises
    ------
    OutputError
        Why the path cannot be used, and what to do instead (exit 2).
    """
    shown = clip(str(path), 200)
    given = Path(path)
    try:
        target = given.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links
        raise _refuse(
            shown, "the output path cannot be resolved", value=clip(str(exc), 200)
        ) from exc
    if given.is_symlink() and not target.exists():
        raise _refuse(
            shown,
            "the output path is a symbolic link to nothing",
            value=f"a link to {clip(str(target), 200)}",
        )
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        cwd = None
    if target == Path(target.anchor) or (
        cwd is not None and (cwd == target or target in cwd.parents)
    ):
        raise _refuse(
            shown,
            "the output folder would be the working folder, one of its parents or the root; "
            "vpp replaces its output folder as a whole",
            value=str(target),
            fix="name a folder of its own, for example --out runs/NAME",
        )
    for item in inputs:
        held = Path(item).resolve()
        if held == target or target in held.parents:
            raise _refuse(
                shown,
                "the output folder holds an input of this command, which replacing it would delete",
                value=f"input {clip(str(item), 200)}",
                fix="choose an output folder that holds none of the inputs",
            )
    ancestor = target.parent
    while not os.path.lexists(ancestor):
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _refuse(
            shown,
            "a parent of the output folder is a file, not a folder",
            value=f"file {clip(str(ancestor), 200)}",
            fix="choose another output folder (--out)",
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _refuse(
            shown,
            "the output folder cannot be written: its parent is read-only for this user",
            value=f"read-only {clip(str(ancestor), 200)}",
            fix="choose a folder you can write (--out), or change the parent's permissions",
        )
    _probe_writable(ancestor, shown)
    if os.path.lexists(target):
        if not target.is_dir():
            raise _refuse(
                shown,
                "the output path is an existing file, not a folder",
                value=f"file {clip(str(target), 200)}",
                fix="choose another output folder (--out)",
            )
        if os.path.ismount(target):
            raise _refuse(
                shown,
                "the output folder is a mount point, which cannot be replaced",
                fix="choose a folder inside it (--out)",
            )
        contents = folder_contents(target)
        if contents.problem:
            raise _refuse(shown, f"the folder is not a vpp output folder: {contents.problem}")
        if contents.foreign:
            listed = ", ".join(clip(name, 80) for name in contents.foreign)
            more = " and maybe more" if contents.more else ""
            raise _refuse(
                shown,
                "the folder exists and holds files vpp did not write; vpp replaces its output "
                "folder as a whole and would delete them",
                value=f"{listed}{more}",
            )
    return target


def build_manifest(folder: Path, *, kind: str) -> dict[str, Any]:
    """The manifest of a freshly written folder; each file is also flushed to disk.

    Parameters
    ----------
    folder : pathlib.Path
        The folder, complete but for its manifest.
    kind : str
        What wrote it (``run``, ``park``, ``sizing``, ``sweep``, ``compare``, ...).
    """
    from vpp import __version__

    files = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel == MANIFEST_NAME:
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                _flush(handle.fileno())
                files.append({"path": rel, "bytes": handle.tell(), "sha256": digest.hexdigest()})
        fsync_folder(Path(root))
    files.sort(key=lambda f: f["path"])
    return {
        "tool": "vpp",
        "format": MANIFEST_FORMAT,
        "version": __version__,
        "kind": kind,
        "files": files,
    }


def write_manifest(folder: Path, *, kind: str) -> None:
    """Write ``.vpp-manifest.json`` into a freshly written folder (:func:`build_manifest`)."""
    from vpp.report.jsonfile import write_json

    write_json(folder / MANIFEST_NAME, build_manifest(folder, kind=kind))


def _flush(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:  # file systems without fsync (some FUSE): durability is theirs
        pass


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk, where that is possible."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        _flush(fd)
    finally:
        os.close(fd)
