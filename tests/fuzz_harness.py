"""The property every fuzz test checks, and the pieces the fuzz tests share.

**The property.** Any input either runs (exit 0) or exits 2 (bad input), 3 (infeasible)
or 4 (solver failure) with a ``vpp:`` message on standard error, and:

- never a Python traceback (an exception escaping :func:`vpp.cli.main`, or the text
  ``Traceback`` in its output), never exit 1 for bad input;
- never a NaN or an infinity in an output file: every ``.json`` parses with a strict
  parser that rejects ``NaN``/``Infinity``, no CSV cell is ``nan``/``inf`` or empty in a
  numeric column, every numeric Parquet column is finite, the HTML report shows none;
- never a write outside ``--out``: the test's whole folder (inputs, working folder) is
  snapshotted before and after, and only the output folder (and its missing parents)
  may differ.

The command line runs in-process (:func:`invoke`), far faster than a subprocess. Inputs
that could exhaust memory (YAML alias bombs) run in a subprocess with an address-space
limit and a timeout (:func:`invoke_bounded`).

Hypothesis profiles (``tests/conftest.py``): ``ci`` (default; derandomized, few
examples, all fuzz tests together under 2 minutes on 2 cores) and ``long``
(``VPP_FUZZ=long``: many more examples, random). See ``docs/testing.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hypothesis import strategies as st

import vpp.cli

#: Exit codes a command may end with on any input (0 ok, 2 bad input, 3 infeasible, 4 solver).
ALLOWED_CODES = (0, 2, 3, 4)
#: A message line of the program (``vpp: ...``) or of argparse (``vpp run: error: ...``).
MESSAGE = re.compile(r"^vpp(?: [a-z-]+)?: ", re.MULTILINE)
#: Cell texts that mean NaN or infinity in a CSV output.
NON_FINITE_CELLS = {"nan", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"}
#: Address-space limit of a bounded subprocess [bytes].
BOUNDED_MEMORY_BYTES = 3 * 1024**3
#: Wall-clock limit of a bounded subprocess [s].
BOUNDED_TIMEOUT_S = 60.0

#: Values that replace a leaf of a valid input: non-finite, negative, huge, wrong types.
NASTY_VALUES: tuple[Any, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -1.5,
    0,
    1e308,
    -1e308,
    1e-320,
    10**30,
    2**63,
    "",
    "abc",
    "n/a",
    "1e999",
    ".nan",
    "NaN",
    None,
    True,
    [],
    {},
    [1, 2],
    {"x": 1},
    "x" * 3000,
    "../../../../etc/passwd",
    "2026-02-30",
)


@dataclass
class Outcome:
    """What one command did: exit code, printed text, and the traceback if it raised."""

    argv: list[str]
    code: int | None
    stdout: str
    stderr: str
    traceback: str | None = None

    def describe(self) -> str:
        tail = (self.traceback or self.stderr)[-3000:]
        return f"vpp {' '.join(self.argv)}\nexit {self.code}\n--- stderr (tail) ---\n{tail}"


def invoke(argv: Sequence[str], *, cwd: Path | None = None) -> Outcome:
    """Run ``vpp.cli.main(argv)`` in-process, capturing its output and any exception."""
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in argv]
    old = os.getcwd()
    tb = None
    code: int | None
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = vpp.cli.main(argv)
            except SystemExit as exc:  # argparse: exit 2 with its usage message
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except KeyboardInterrupt:
                raise
            except BaseException:
                tb = traceback.format_exc()
                code = None
    finally:
        os.chdir(old)
    return Outcome(argv, code, out.getvalue(), err.getvalue(), tb)


def invoke_bounded(
    argv: Sequence[str],
    *,
    cwd: Path,
    memory_bytes: int = BOUNDED_MEMORY_BYTES,
    timeout_s: float = BOUNDED_TIMEOUT_S,
) -> Outcome:
    """Run the command line in a subprocess limited in memory and time.

    A process that runs out of its address space or its time is reported as a failed
    outcome (code ``None``) with what happened, so that the property check fails.
    """
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    code = "import sys, vpp.cli; sys.exit(vpp.cli.main(sys.argv[1:]))"
    argv = [str(a) for a in argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            preexec_fn=limit,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        return Outcome(argv, None, "", err, f"timed out after {timeout_s:g} s")
    tb = None
    if "Traceback (most recent call last)" in proc.stderr or "MemoryError" in proc.stderr:
        tb = proc.stderr
    if proc.returncode < 0:
        tb = f"killed by signal {-proc.returncode}\n{proc.stderr}"
    return Outcome(argv, proc.returncode, proc.stdout, proc.stderr, tb)


# ------------------------------------------------------------------ the property


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: relative path -> content hash (or 'dir')."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for d in dirnames:
            found[str((base / d).relative_to(root))] = "dir"
        for f in filenames:
            path = base / f
            rel = str(path.relative_to(root))
            try:
                if path.is_symlink():
                    found[rel] = "link:" + os.readlink(path)
                else:
                    found[rel] = hashlib.sha1(path.read_bytes()).hexdigest()
            except OSError as exc:
                found[rel] = f"unreadable: {exc}"
    return found


def _under(rel: str, outs: Sequence[str]) -> bool:
    return any(rel == o or rel.startswith(o + os.sep) or o.startswith(rel + os.sep) for o in outs)


def writes_outside(
    before: dict[str, str], after: dict[str, str], root: Path, outs: Sequence[Path]
) -> list[str]:
    """Paths created, changed or removed under ``root`` that are not in (or above) ``outs``."""
    rel_outs = [os.path.relpath(Path(o).resolve(), root.resolve()) for o in outs]
    changed = []
    for rel in sorted(set(before) | set(after)):
        if _under(rel, rel_outs):
            continue
        if before.get(rel) != after.get(rel):
            state = "created" if rel not in before else "removed" if rel not in after else "changed"
            changed.append(f"{rel} ({state})")
    return changed


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite JSON constant {name}")


def strict_json(text: str) -> Any:
    """Parse JSON, refusing ``NaN``, ``Infinity`` and ``-Infinity``."""
    return json.loads(text, parse_constant=_reject_constant)


def non_finite_in_csv(text: str) -> str | None:
    """The first NaN/inf cell of a CSV text (or an empty cell in a numeric column)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return None
    header, body = rows[0], rows[1:]
    numeric = set()
    for j in range(len(header)):
        cells = [r[j] for r in body if j < len(r) and r[j] != ""]
        if cells and all(_is_number(c) for c in cells):
            numeric.add(j)
    for i, row in enumerate(body, start=2):
        for j, cell in enumerate(row):
            name = header[j] if j < len(header) else f"#{j}"
            if cell.strip().lower() in NON_FINITE_CELLS:
                return f"row {i}, column {name}: {cell!r}"
            if cell == "" and j in numeric:
                return f"row {i}, column {name}: empty cell in a numeric column"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def non_finite_in_outputs(outs: Sequence[Path]) -> list[str]:
    """Every output file under ``outs`` holding a NaN or an infinity (one line each)."""
    found = []
    for out in outs:
        out = Path(out)
        if not out.is_dir():
            continue
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            where = str(path.relative_to(out.parent))
            try:
                if path.suffix == ".json":
                    strict_json(path.read_text(encoding="utf-8"))
                elif path.suffix == ".csv":
                    bad = non_finite_in_csv(path.read_text(encoding="utf-8"))
                    if bad:
                        found.append(f"{where}: {bad}")
                elif path.suffix == ".parquet":
                    frame = pd.read_parquet(path)
                    for column in frame.select_dtypes("number").columns:
                        values = frame[column].to_numpy(dtype=float)
                        if not all(math.isfinite(v) for v in values):
                            found.append(f"{where}: column {column} is not finite")
                elif path.suffix in (".html", ".yaml", ".txt", ".md"):
                    text = re.sub(r"data:[^\"')\s]+", "", path.read_text(encoding="utf-8"))
                    text = re.sub(r"<script.*?</script>", "", text, flags=re.DOTALL)
                    hit = re.search(
                        r"(?<![\w.-])(nan|NaN|-?inf|-?Infinity|\.nan|\.inf)(?![\w.])", text
                    )
                    if hit:
                        found.append(
                            f"{where}: {text[max(0, hit.start() - 60) : hit.end() + 20]!r}"
                        )
            except ValueError as exc:
                found.append(f"{where}: {exc}")
    return found


def check(
    outcome: Outcome,
    *,
    root: Path,
    before: dict[str, str],
    outs: Sequence[Path],
    allowed: Sequence[int] = ALLOWED_CODES,
) -> None:
    """Assert the property (module docstring) of one command's outcome."""
    text = outcome.describe()
    assert outcome.traceback is None, f"traceback:\n{text}"
    assert "Traceback (most recent call last)" not in outcome.stderr + outcome.stdout, text
    assert outcome.code in allowed, f"exit code {outcome.code} not in {tuple(allowed)}:\n{text}"
    if outcome.code != 0:
        assert MESSAGE.search(outcome.stderr), f"no 'vpp:' message on stderr:\n{text}"
    after = snapshot(root)
    outside = writes_outside(before, after, root, outs)
    assert not outside, f"wrote outside --out: {outside}\n{text}"
    bad = non_finite_in_outputs(outs)
    assert not bad, f"NaN or infinity in outputs: {bad}\n{text}"


@contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh temporary folder (hypothesis examples cannot use pytest's ``tmp_path``)."""
    with tempfile.TemporaryDirectory(prefix="vpp-fuzz-") as name:
        yield Path(name)


# ------------------------------------------------------------------ mutating a tree


def paths_of(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a YAML tree (dicts and lists), the root excluded."""
    found = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            found.append((*prefix, k))
            found += paths_of(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            found.append((*prefix, i))
            found += paths_of(v, (*prefix, i))
    return found


def _parent(tree: Any, path: tuple) -> Any:
    for k in path[:-1]:
        tree = tree[k]
    return tree


@st.composite
def mutated(draw: st.DrawFn, tree: Any, *, max_mutations: int = 3) -> Any:
    """A copy of ``tree`` with 1..``max_mutations`` changes: a leaf replaced by a nasty
    value, a key dropped, an unknown key added, a value nested deep in lists or dicts,
    a list emptied or repeated."""
    import copy

    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = paths_of(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(tree, path)
        key = path[-1]
        op = draw(
            st.sampled_from(
                ("replace", "replace", "replace", "drop", "unknown", "deep", "number", "repeat")
            )
        )
        if op == "replace":
            parent[key] = draw(st.sampled_from(NASTY_VALUES))
        elif op == "number":
            parent[key] = draw(
                st.one_of(
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-(10**20), 10**20),
                )
            )
        elif op == "drop":
            del parent[key]
        elif op == "unknown":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(("unknown_key", "energy_kw", "Name", "x" * 200)))] = 1
            else:
                parent[key] = {"unknown_key": parent[key]}
        elif op == "deep":
            value = parent[key]
            for _ in range(draw(st.integers(1, 60))):
                value = [value] if draw(st.booleans()) else {"k": value}
            parent[key] = value
        elif op == "repeat":
            value = parent[key]
            parent[key] = [value] * draw(st.integers(0, 5))
    return tree


def dump_yaml(tree: Any) -> str:
    """YAML text of a tree (NaN and infinities as ``.nan``/``.inf``); no aliases."""

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(tree, Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=10**6)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A billion-laughs YAML document: ``width ** levels`` strings from a few hundred bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def mutate_csv_text(draw: st.DrawFn, text: str, header_lines: int = 1) -> bytes:
    """Bytes of a CSV text with a few hostile changes (cells, rows, delimiter, encoding);
    the first ``header_lines`` lines are kept as they are."""
    lines = text.splitlines()
    header, rows = "\n".join(lines[:header_lines]), lines[header_lines:]
    cells = [r.split(",") for r in rows]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ("cell", "cell", "stamp", "duplicate", "drop", "swap", "extra", "truncate", "blank")
            )
        )
        if not cells:
            break
        i = draw(st.integers(0, len(cells) - 1))
        if op == "cell" and len(cells[i]) > 1:
            j = draw(st.integers(1, len(cells[i]) - 1))
            cells[i][j] = draw(st.sampled_from(BAD_CELLS))
        elif op == "stamp":
            cells[i][0] = draw(st.sampled_from(BAD_STAMPS))
        elif op == "duplicate":
            cells.insert(i, list(cells[i]))
        elif op == "drop":
            del cells[i]
        elif op == "swap" and len(cells) > 1:
            k = draw(st.integers(0, len(cells) - 1))
            cells[i], cells[k] = cells[k], cells[i]
        elif op == "extra":
            cells[i].append("1")
        elif op == "truncate":
            cells[i] = cells[i][:1]
        elif op == "blank":
            cells.insert(i, [""])
    body = "\n".join([header, *(",".join(r) for r in cells)]) + "\n"
    form = draw(
        st.sampled_from(
            ("plain", "plain", "semicolon", "bom", "crlf", "utf16", "latin1", "tabs", "garbage")
        )
    )
    if form == "semicolon":
        return body.replace(",", ";").encode()
    if form == "bom":
        return b"\xef\xbb\xbf" + body.encode()
    if form == "crlf":
        return body.replace("\n", "\r\n").encode()
    if form == "utf16":
        return body.encode("utf-16")
    if form == "latin1":
        return body.replace(",", ",temp\xe9rature,", 1).encode("latin-1", errors="replace")
    if form == "tabs":
        return body.replace(",", "\t").encode()
    if form == "garbage":
        return draw(st.binary(max_size=200)) + body.encode()
    return body.encode()


#: Cell values that a real meter or spreadsheet writes.
BAD_CELLS = (
    "nan",
    "NaN",
    "inf",
    "-inf",
    "n/a",
    "",
    "1e999",
    "-1",
    "-1e12",
    "1e300",
    "abc",
    "1,5",
    "0x10",
    " ",
    "None",
    "#DIV/0!",
    "1e-320",
    "99999999999999999999",
)
#: Timestamps that do not parse, are ambiguous or out of the horizon.
BAD_STAMPS = (
    "",
    "2026-02-30T00:00:00+08:00",
    "yesterday",
    "2026-07-15 25:00",
    "2026-07-15T00:00:00",
    "2026-07-15T00:00:00Z",
    "1900-01-01T00:00:00+08:00",
    "9999-12-31T23:00:00+08:00",
    "2026-13-01T00:00:00+08:00",
    "0",
    "2026-07-15T00:00:00+14:00",
)


def examples(n: int) -> int:
    """``n`` examples in the ``ci`` profile; 25 times more (or ``VPP_FUZZ_EXAMPLES``) in
    the ``long`` profile (``VPP_FUZZ=long``)."""
    if os.environ.get("VPP_FUZZ") == "long":
        return int(os.environ.get("VPP_FUZZ_EXAMPLES", n * 25))
    return n


def run_in_sandbox(
    files: dict[str, str | bytes],
    argv: Sequence[str],
    outs: Sequence[str],
    *,
    bounded: bool = False,
    allowed: Sequence[int] = ALLOWED_CODES,
    timeout_s: float = BOUNDED_TIMEOUT_S,
    after: Any = None,
) -> Outcome:
    """Write ``files`` (path relative to a fresh sandbox -> text or bytes), run the command
    (``{root}`` in ``argv``, ``outs`` and text files is the sandbox) from the sandbox's ``cwd/`` and
    check the property with ``outs`` as the only folders that may change. ``after(root)``,
    if given, is called before the sandbox is removed (to look at the outputs)."""
    with sandbox() as root:
        (root / "cwd").mkdir()
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content.replace("{root}", str(root)), encoding="utf-8")
        args = [a.replace("{root}", str(root)) for a in argv]
        out_paths = [Path(o.replace("{root}", str(root))) for o in outs]
        before = snapshot(root)
        if bounded:
            outcome = invoke_bounded(args, cwd=root / "cwd", timeout_s=timeout_s)
        else:
            outcome = invoke(args, cwd=root / "cwd")
        if after is not None:
            after(root)
        check(outcome, root=root, before=before, outs=out_paths, allowed=allowed)
        return outcome


def data_files(folder: Path, names: Sequence[str], prefix: str = "in/") -> dict[str, bytes]:
    """The bytes of ``names`` in ``folder``, keyed ``prefix + name`` for :func:`run_in_sandbox`."""
    return {prefix + n: (Path(folder) / n).read_bytes() for n in names}


@st.composite
def damaged_csv(draw: st.DrawFn, text: str, header_lines: int = 1) -> bytes:
    """Strategy: the bytes of ``text`` (a CSV) with hostile changes (:func:`mutate_csv_text`)."""
    return mutate_csv_text(draw, text, header_lines)
