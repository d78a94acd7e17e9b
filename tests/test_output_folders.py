"""Output folders: nothing of the user's is ever replaced, and no kill loses an output.

- a folder vpp did not write is refused (exit 2) before anything is solved, and left
  as it was; so are ``.``, the working folder's parents, a parent that is a file, a
  read-only parent and a folder holding an input of the command;
- every output folder carries ``.vpp-manifest.json``; a folder with one may be replaced;
- fault injection: a writer killed (SIGKILL, in a subprocess) at each phase of the
  write leaves the folder either exactly as it was or complete and new; the next writer
  restores or cleans what it left; disk full and permission errors leave it as it was
  (exit 1);
- new folders follow the umask; JSON outputs refuse NaN with the key's name (exit 4).
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
import vpp.cli
import vpp.planning.size
import vpp.planning.sweep
import vpp.portfolio.run
import vpp.report.atomic as atomic
import vpp.report.compare
import vpp.report.files
import vpp.report.outdir as outdir
import vpp.solar.forecast
from vpp.errors import EXIT_BAD_INPUT, EXIT_SOLVER, InternalError, OutputError
from vpp.report.atomic import (
    OutputWriteError,
    exchange_paths,
    recover,
    side_folders,
    write_folder_atomically,
)
from vpp.report.jsonfile import dumps_json
from vpp.report.outdir import MANIFEST_NAME, check_output_folder

ROOT = Path(__file__).resolve().parent.parent
N = 24


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path: bytes), hidden ones included."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def filler(label: str):
    """A ``fill`` writing a file and a sub-folder whose contents depend on ``label``."""

    def fill(tmp: Path) -> None:
        (tmp / "a.txt").write_text(label)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text(label * 3)

    return fill


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """A small valid scenario (24 h, a battery) written into ``tmp_path/case``."""
    folder = tmp_path / "case"
    data = scenario_dict(
        folder,
        [100.0] * N,
        price=[0.5] * 8 + [1.0] * 16,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0)],
    )
    return write_scenario(folder, data)


@pytest.fixture
def no_solve(monkeypatch):
    """Every solver entry of the command line fails the test if it is reached."""

    def solved(*args, **kwargs):
        raise AssertionError("solved before the output folder was checked")

    monkeypatch.setattr(vpp, "run", solved)
    monkeypatch.setattr(vpp.planning.size, "size", solved)
    monkeypatch.setattr(vpp.planning.sweep, "run_sweep", solved)
    monkeypatch.setattr(vpp.portfolio.run, "run_park", solved)
    monkeypatch.setattr(vpp.solar.forecast, "pv_forecast_kw", solved)


# ------------------------------------------------------------------ refusals, before solving


def test_a_user_folder_is_refused_before_solving_and_left_as_it_was(
    scenario: Path, tmp_path: Path, capsys, no_solve
) -> None:
    mydata = tmp_path / "mydata"
    mydata.mkdir()
    (mydata / "thesis.txt").write_text("four years of work")
    before = files(mydata)
    code = vpp.cli.main(["run", str(scenario), "--out", str(mydata)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert files(mydata) == before
    assert str(mydata) in err and "thesis.txt" in err and "Fix:" in err
    assert "vpp: error (output)" in err and "Traceback" not in err
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("where", [".", "..", "/", "CWD"])
def test_the_working_folder_and_its_parents_are_refused_before_solving(
    where: str, scenario: Path, tmp_path: Path, monkeypatch, capsys, no_solve
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = str(work) if where == "CWD" else where
    start = time.perf_counter()
    assert vpp.cli.main(["run", str(scenario), "--out", out]) == EXIT_BAD_INPUT
    assert time.perf_counter() - start < 5.0
    err = capsys.readouterr().err
    assert "working folder" in err and "Fix:" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "work"]


def _cli_cases(scenario: Path) -> dict[str, list[str]]:
    return {
        "park": ["run", str(ROOT / "scenarios" / "park" / "xushuguan-park.yaml")],
        "size": ["size", str(ROOT / "scenarios" / "xushuguan-factory-planning.yaml")],
        "sweep": ["sweep", str(ROOT / "scenarios" / "sweeps" / "battery-and-tariff.yaml")],
        "forecast": [
            "forecast",
            str(ROOT / "scenarios" / "xushuguan-factory-next-day.yaml"),
            "--weather",
            str(ROOT / "forecasts" / "xushuguan-2026-07-15.csv"),
        ],
        "run": ["run", str(scenario)],
    }


@pytest.mark.parametrize("command", ["run", "park", "size", "sweep", "forecast"])
def test_every_command_checks_its_output_folder_before_solving(
    command: str, scenario: Path, tmp_path: Path, monkeypatch, capsys, no_solve
) -> None:
    monkeypatch.chdir(tmp_path)
    args = _cli_cases(scenario)[command]
    assert vpp.cli.main([*args, "--out", "."]) == EXIT_BAD_INPUT
    assert "working folder" in capsys.readouterr().err
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.md").write_text("mine")
    assert vpp.cli.main([*args, "--out", str(user)]) == EXIT_BAD_INPUT
    assert "notes.md" in capsys.readouterr().err
    assert files(user) == {"notes.md": b"mine"}


def test_parent_is_a_file_and_out_is_a_file_exit_2(
    scenario: Path, tmp_path: Path, capsys, no_solve
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert vpp.cli.main(["run", str(scenario), "--out", str(plain / "out")]) == EXIT_BAD_INPUT
    assert "parent of the output folder is a file" in capsys.readouterr().err
    assert vpp.cli.main(["run", str(scenario), "--out", str(plain)]) == EXIT_BAD_INPUT
    assert "existing file" in capsys.readouterr().err
    assert plain.read_text() == "x"


def test_a_read_only_parent_exits_2_before_solving(
    scenario: Path, tmp_path: Path, monkeypatch, capsys, no_solve
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # root may write anywhere, so the read-only folder is what os.access reports
    monkeypatch.setattr(
        outdir.os, "access", lambda p, mode, **k: Path(p) != locked and real_access(p, mode)
    )
    out = locked / "deeper" / "out"
    assert vpp.cli.main(["run", str(scenario), "--out", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "read-only" in err and str(locked) in err
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_parent_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="read-only"):
            check_output_folder(locked / "out")
    finally:
        locked.chmod(0o755)


def test_compare_refuses_to_write_over_a_run_it_compares(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    runs = []
    for name in ("a", "b"):
        write_folder_atomically(tmp_path / name, [], filler(name), kind="run")
        runs.append(tmp_path / name)
    before = files(runs[0])
    monkeypatch.setattr(vpp.report.compare, "read_summaries", lambda folders: {})
    code = vpp.cli.main(["compare", *map(str, runs), "--out", str(runs[0])])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "holds an input" in err and str(runs[0]) in err
    with pytest.raises(OutputError, match="holds an input"):
        check_output_folder(runs[0], inputs=runs)
    with pytest.raises(OutputError, match="holds an input"):
        check_output_folder(tmp_path, inputs=[runs[1] / "a.txt"])
    assert files(runs[0]) == before


def test_api_writes_check_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    for out in (".", tmp_path, tmp_path / "keep.txt"):
        with pytest.raises(OutputError):
            write_folder_atomically(out, [], filler("x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# ------------------------------------------------------------------ the manifest


def test_outputs_carry_a_manifest_and_may_be_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_folder_atomically(out, ["a.txt"], filler("one"), kind="run")
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["tool"] == "vpp" and manifest["kind"] == "run"
    assert manifest["version"] == vpp.__version__
    listed = {f["path"]: f for f in manifest["files"]}
    assert sorted(listed) == ["a.txt", "sub/b.txt"]
    for name, entry in listed.items():
        data = (out / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    first = files(out)
    write_folder_atomically(out, ["a.txt"], filler("two"), kind="run")
    assert (out / "a.txt").read_text() == "two"
    write_folder_atomically(out, ["a.txt"], filler("one"), kind="run")
    assert files(out) == first  # no time stamp: identical outputs, identical folders
    assert hidden(tmp_path) == []


def test_a_file_added_to_an_output_folder_is_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_folder_atomically(out, [], filler("one"))
    (out / "sub" / "my-notes.txt").write_text("mine")
    before = files(out)
    with pytest.raises(OutputError, match="my-notes.txt"):
        write_folder_atomically(out, [], filler("two"))
    assert files(out) == before


def test_an_empty_folder_may_be_used_and_a_broken_manifest_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_folder_atomically(out, [], filler("one"))
    assert (out / "a.txt").read_text() == "one"
    (out / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(OutputError, match="cannot be read"):
        write_folder_atomically(out, [], filler("two"))
    (out / MANIFEST_NAME).write_text(json.dumps({"tool": "other", "files": []}))
    with pytest.raises(OutputError, match="not written by vpp"):
        check_output_folder(out)
    assert (out / "a.txt").read_text() == "one"


def test_folders_of_vpp_before_the_manifest_may_be_replaced(tmp_path: Path) -> None:
    out = tmp_path / "old-run"
    (out / "figures").mkdir(parents=True)
    for name in ("summary.json", "schedule.csv", "report.html", "figures/peak_import.png"):
        (out / name).write_text("old")
    write_folder_atomically(out, [], filler("new"))
    assert sorted(files(out)) == [MANIFEST_NAME, "a.txt", "sub/b.txt"]
    # the same names without a main file of an output are not a vpp output
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my report")
    with pytest.raises(OutputError, match="report.html"):
        check_output_folder(mine)


def test_outputs_nested_in_an_output_folder_are_kept(tmp_path: Path) -> None:
    # runs/<scenario>/forecast-<day>/ lives inside runs/<scenario>/: a run keeps it
    out = tmp_path / "runs" / "site"
    write_folder_atomically(out / "forecast-2026-07-15", [], filler("pv"), kind="pv-forecast")
    nested = files(out / "forecast-2026-07-15")
    write_folder_atomically(out, [], filler("run 1"), kind="run")
    write_folder_atomically(out, [], filler("run 2"), kind="run")
    assert (out / "a.txt").read_text() == "run 2"
    assert files(out / "forecast-2026-07-15") == nested
    assert hidden(out.parent) == []
    # also when the nested output's own parent was written by an older vpp
    legacy = tmp_path / "legacy"
    (legacy / "forecast-x").mkdir(parents=True)
    (legacy / "forecast-x" / "pv_forecast.csv").write_text("old forecast")
    (legacy / "summary.json").write_text("old run")
    write_folder_atomically(legacy, [], filler("run"))
    assert (legacy / "forecast-x" / "pv_forecast.csv").read_text() == "old forecast"


# ------------------------------------------------------------------ mode, exchange


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_new_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_folder_atomically(tmp_path / "out", [], filler("x"))
    finally:
        os.umask(old)
    for folder in (tmp_path / "out", tmp_path / "out" / "sub"):
        assert folder.stat().st_mode & 0o777 == 0o777 & ~umask, folder
    assert (tmp_path / "out" / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_the_swap_is_one_exchange_on_linux(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "1").write_text("1")
    assert exchange_paths(first, second)
    assert [p.name for p in second.iterdir()] == ["1"] and list(first.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        exchange_paths(first, tmp_path / "missing")


# ------------------------------------------------------------------ fault injection

#: Writes folder ``argv[1]`` as :func:`filler` with label ``argv[3]``, and SIGKILLs itself
#: at phase ``argv[2]``.
KILL_AT = r"""
import os, shutil, signal, sys
from pathlib import Path
import vpp.report.atomic as atomic

out, phase, label = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def fill(tmp):
    (tmp / "a.txt").write_text(label)
    if phase == "fill":
        die()
    (tmp / "sub").mkdir()
    (tmp / "sub" / "b.txt").write_text(label * 3)

real_manifest, real_exchange, real_rename = atomic.write_manifest, atomic.exchange_paths, os.rename
if phase == "manifest":
    atomic.write_manifest = lambda *a, **k: (real_manifest(*a, **k), die())
if phase == "exchanged":
    atomic.exchange_paths = lambda *a: (real_exchange(*a), die())
if phase == "removing-old":
    def rmtree(path, *a, **k):
        next(Path(path).rglob("*.txt")).unlink()
        die()
    atomic.shutil.rmtree = rmtree
if phase in ("old-renamed", "new-renamed"):  # systems without an exchange
    atomic.exchange_paths = lambda *a: False
    calls = []
    def rename(src, dst):
        real_rename(src, dst)
        calls.append(dst)
        if len(calls) == (1 if phase == "old-renamed" else 2):
            die()
    os.rename = rename
atomic.write_folder_atomically(out, ["a.txt"], fill)
"""

#: phase: (the folder right after the kill: "old", "new" or "missing", after the next writer)
PHASES = {
    "fill": ("old", "old"),
    "manifest": ("old", "old"),
    "exchanged": ("new", "new"),
    "removing-old": ("new", "new"),
    "old-renamed": ("missing", "old"),
    "new-renamed": ("new", "new"),
}


def _failing(tmp: Path) -> None:
    (tmp / "half.txt").write_text("half")
    raise RuntimeError("the next run fails too")


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_kill_at_any_phase_loses_nothing(phase: str, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "site"
    write_folder_atomically(out, [], filler("old"), kind="output")
    write_folder_atomically(out / "forecast-x", [], filler("pv"), kind="pv-forecast")
    old = files(out)
    reference = tmp_path / "reference"
    write_folder_atomically(reference, [], filler("new"))
    new = {**files(reference), **{k: v for k, v in old.items() if k.startswith("forecast-x/")}}

    done = subprocess.run(
        [sys.executable, "-c", KILL_AT, str(out), phase, "new"], capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    right_after, after_next = PHASES[phase]
    if right_after == "missing":
        assert not out.exists()
    else:
        now = files(out)
        assert now == (old if right_after == "old" else new) or (
            right_after == "new"  # killed before the nested output was moved over
            and now == {k: v for k, v in new.items() if not k.startswith("forecast-x/")}
        )
    assert side_folders(out), "the kill should have left a side folder"

    # the next writer fails, but first restores and cleans what the kill left
    with pytest.raises(RuntimeError):
        write_folder_atomically(out, [], _failing)
    assert files(out) == (old if after_next == "old" else new)
    assert hidden(out.parent) == []
    write_folder_atomically(out, [], filler("later"))
    assert (out / "a.txt").read_text() == "later" and (out / "forecast-x").is_dir()
    assert hidden(out.parent) == []


def test_side_folders_of_a_live_writer_are_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_folder_atomically(out, [], filler("old"))
    gate = tmp_path / "gate"
    script = (
        "import sys, time\nfrom pathlib import Path\nimport vpp.report.atomic as atomic\n"
        "def fill(tmp):\n    (tmp / 'a.txt').write_text('slow')\n"
        f"    Path({str(gate)!r}).write_text('in')\n"
        f"    while Path({str(gate)!r}).read_text() != 'go':\n        time.sleep(0.02)\n"
        f"atomic.write_folder_atomically({str(out)!r}, [], fill)\n"
    )
    slow = subprocess.Popen([sys.executable, "-c", script])
    try:
        while not gate.exists() or gate.read_text() != "in":
            assert slow.poll() is None
            time.sleep(0.02)
        [side] = side_folders(out)
        assert side.pid == slow.pid
        write_folder_atomically(out, [], filler("meanwhile"))
        assert side.path.is_dir(), "removed the folder of a live writer"
        gate.write_text("go")
        assert slow.wait(timeout=60) == 0
    finally:
        slow.kill()
        slow.wait()
    assert (out / "a.txt").read_text() == "slow" and hidden(tmp_path) == []


def test_an_old_folder_of_an_earlier_vpp_is_restored(tmp_path: Path) -> None:
    # vpp before this change: os.replace(out, .out.old-PID) then killed
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    old = tmp_path / f".out.old-{int(gone.stdout)}"
    old.mkdir()
    (old / "summary.json").write_text("previous")
    assert recover(tmp_path / "out")
    assert (tmp_path / "out" / "summary.json").read_text() == "previous"
    assert hidden(tmp_path) == []


def test_disk_full_while_writing_leaves_the_previous_run(
    scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(scenario), "--out", str(out)]) == 0
    before = files(out)
    assert MANIFEST_NAME in before

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "schedule.csv")

    monkeypatch.setattr(vpp.report.files, "write_csv", full)
    capsys.readouterr()
    assert vpp.cli.main(["run", str(scenario), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "left as it was" in err
    assert files(out) == before
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("where", ["fill", "manifest", "swap"])
def test_permission_errors_leave_the_previous_folder(
    where: str, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "out"
    write_folder_atomically(out, [], filler("old"))
    before = files(out)

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(out))

    fill = filler("new")
    if where == "fill":
        fill = denied
    elif where == "manifest":
        monkeypatch.setattr(atomic, "write_manifest", denied)
    else:
        monkeypatch.setattr(atomic, "exchange_paths", lambda *a: False)
        monkeypatch.setattr(atomic.os, "rename", denied)
    with pytest.raises(OutputWriteError) as info:
        write_folder_atomically(out, [], fill)
    assert info.value.errno == errno.EACCES and "left as it was" in str(info.value)
    monkeypatch.undo()
    assert files(out) == before
    assert hidden(tmp_path) == []


# ------------------------------------------------------------------ JSON


def test_a_nan_in_a_summary_is_an_internal_error_naming_the_key(
    scenario: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    real_run = vpp.run

    def poisoned(*args, **kwargs):
        result = real_run(*args, **kwargs)
        result.summary["baseline"]["total_cost_cny"] = math.nan
        return result

    monkeypatch.setattr(vpp, "run", poisoned)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(scenario), "--out", str(out)]) == EXIT_SOLVER
    err = capsys.readouterr().err
    assert "vpp: error (internal)" in err and "baseline.total_cost_cny" in err
    assert "summary.json" in err and not out.exists() and hidden(tmp_path) == []


def test_json_refuses_every_non_finite_number() -> None:
    value = {"a": [1.0, {"b": math.inf}], "c": -math.inf, "ok": 10**400, "s": "NaN"}
    with pytest.raises(InternalError, match=r"a\[1\]\.b, c") as info:
        dumps_json(value, file="park_summary.json")
    assert info.value.exit_code == EXIT_SOLVER and "park_summary.json" in str(info.value)
    assert json.loads(dumps_json({"x": 1.5, "n": None}, file="f.json")) == {"x": 1.5, "n": None}
