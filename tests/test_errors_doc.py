"""docs/errors.md is what the program prints: every example runs as documented.

Each ``console`` block of ``docs/errors.md`` holds a command (``$ vpp ...``), the lines
the program prints (``...`` matches any text) and ``[exit N]``. The command runs
in-process from a folder holding a copy of ``tests/data/errors/`` at the same relative
path, so the block's paths are as typed. An HTML comment before a block sets it up:
``<!-- errors-doc: hold-lock OUT DATE -->`` holds the job's date lock while it runs;
``<!-- errors-doc: sigint -->`` runs it in a subprocess and sends ``SIGINT`` once the
model is being built; ``<!-- errors-doc: disk-full -->`` makes every Parquet write fail
with ``ENOSPC`` (a full disk). The doc must also name every ``VppError`` subclass of the package.
"""

from __future__ import annotations

import importlib
import pkgutil
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from fuzz_harness import invoke

import vpp
from vpp.errors import VppError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
DATA = ROOT / "tests" / "data" / "errors"


@dataclass
class Example:
    line: int
    command: str
    expected: list[str]
    exit_code: int
    setup: str | None


def examples() -> list[Example]:
    """The ``console`` blocks of docs/errors.md, in order."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found, setup, i = [], None, 0
    while i < len(lines):
        text = lines[i]
        directive = re.fullmatch(r"<!-- errors-doc: (.*) -->", text.strip())
        if directive:
            setup = directive.group(1)
        elif text.strip() == "```console":
            start = i + 1
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            assert body and body[0].startswith("$ vpp "), f"line {start}: no '$ vpp' command"
            code = re.fullmatch(r"\[exit (\d+)\]", body[-1].strip())
            assert code, f"line {start}: the block does not end with [exit N]"
            found.append(Example(start, body[0][2:], body[1:-1], int(code.group(1)), setup))
            setup = None
        elif text.strip():
            setup = setup if text.startswith("<!--") else None
        i += 1
    return found


def pattern(expected: str) -> re.Pattern[str]:
    """An expected line as a regex: ``...`` is any text, the rest literal."""
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


def in_copy(tmp_path: Path) -> Path:
    """A working folder with ``tests/data/errors/`` copied at the same relative path."""
    shutil.copytree(DATA, tmp_path / "tests" / "data" / "errors")
    return tmp_path


def run_interrupted(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run in a subprocess and send SIGINT once the model is being built."""
    code = "import sys, vpp.cli; sys.exit(vpp.cli.main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    while time.monotonic() < deadline:  # a child that goes silent cannot hang the test
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        seen.append(line)
        if "building the model" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, "".join(seen) + err


EXAMPLES = examples()


def test_the_doc_has_an_example_for_every_exit_code() -> None:
    assert {e.exit_code for e in EXAMPLES} == {0, 1, 2, 3, 4, 5, 130}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{e.line}" for e in EXAMPLES])
def test_the_example_prints_what_the_doc_says(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = in_copy(tmp_path)
    argv = shlex.split(example.command)[1:]
    setup = (example.setup or "").split()
    if setup[:1] == ["sigint"]:
        code, out, err = run_interrupted(argv, cwd)
        traceback = None
        assert not (cwd / argv[argv.index("--out") + 1]).exists(), "an interrupted run wrote"
    elif setup[:1] == ["disk-full"]:
        import errno

        import pandas as pd

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
        outcome = invoke(argv, cwd=cwd)
        code, out, err, traceback = outcome.code, outcome.stdout, outcome.stderr, outcome.traceback
    elif setup[:1] == ["hold-lock"]:
        from vpp.jobs.lock import date_lock

        with date_lock(cwd / setup[1], setup[2]):
            outcome = invoke(argv, cwd=cwd)
        code, out, err, traceback = outcome.code, outcome.stdout, outcome.stderr, outcome.traceback
    else:
        outcome = invoke(argv, cwd=cwd)
        code, out, err, traceback = outcome.code, outcome.stdout, outcome.stderr, outcome.traceback
    shown = f"$ {example.command}\n--- stdout ---\n{out[-2000:]}\n--- stderr ---\n{err[-3000:]}"
    assert traceback is None, f"{shown}\n{traceback}"
    assert "Traceback" not in err, shown
    assert code == example.exit_code, f"exit {code}, the doc says {example.exit_code}\n{shown}"
    printed = (err + out).splitlines()
    for expected in example.expected:
        regex = pattern(expected)
        assert any(regex.fullmatch(line) for line in printed), (
            f"docs/errors.md line {example.line}: not printed:\n{expected}\n{shown}"
        )


def _error_classes() -> set[type]:
    for info in pkgutil.walk_packages(vpp.__path__, "vpp."):
        importlib.import_module(info.name)
    found, todo = set(), [VppError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("vpp.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_the_doc_names_every_error_class() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(
        f"{c.__module__}.{c.__name__}"
        for c in _error_classes()
        if f"`{c.__name__}`" not in text and f".{c.__name__}`" not in text
    )
    assert not missing, f"docs/errors.md does not name: {missing}"
