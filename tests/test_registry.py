"""The daily job's run registry and date lock: records, filters, dead runs, busy dates, CLI.

Processes that die are real: children started with ``python -c`` and killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from registry_fixtures import OLD_SCHEMA_VERSION, make_old_registry

from vpp.cli import main
from vpp.jobs.registry import (
    EXIT_BUSY,
    JobBusyError,
    Registry,
    RegistryError,
    date_lock,
    format_runs,
    process_start,
    sha256_file,
    sha256_text,
)

REPO = Path(__file__).resolve().parent.parent
#: How long a child may take to say it is ready [s].
READY_TIMEOUT_S = 20.0
#: How long the concurrent writers may take [s].
WRITERS_TIMEOUT_S = 60.0

SLEEPING_RUN = """
import sys, time
from vpp.jobs.registry import Registry
registry = Registry(sys.argv[1])
run_id = registry.start(job="schedule", date=sys.argv[2], park="xushuguan",
                        scenario_hash="h", inputs={}, out_dir="out")
print(run_id, flush=True)
time.sleep(120)
"""

LOCK_HOLDER = """
import sys, time
from vpp.jobs.registry import date_lock
with date_lock(sys.argv[1], sys.argv[2]):
    print("locked", flush=True)
    time.sleep(120)
"""

WRITER = """
import sys
from vpp.jobs.registry import Registry
path, park = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
for i in range(20):
    registry = Registry(path)
    run_id = registry.start(job="schedule", date="2026-05-01", park=park,
                            scenario_hash="h", inputs={"i": str(i)}, out_dir="out")
    registry.finish(run_id, status="ok", exit_code=0, objective_cny=float(i),
                    kpis={"sites": {park: {"bill_cny": i}}})
print("done", flush=True)
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen]]:
    """Child processes, killed at the end of the test whatever happens."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def spawn(children: list[subprocess.Popen], code: str, *args: object) -> tuple[int, str]:
    """Start ``python -c code args``; return its pid and the first line it prints."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    children.append(proc)
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        proc.kill()
        pytest.fail(f"child did not start: {proc.communicate()[1]}")
    return proc.pid, line


def kill(children: list[subprocess.Popen], pid: int) -> None:
    """SIGKILL a child and wait for it (its pid is then gone)."""
    proc = next(p for p in children if p.pid == pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def start(registry: Registry, date: str = "2026-05-01", park: str = "xushuguan") -> int:
    return registry.start(
        job="schedule", date=date, park=park, scenario_hash="abc", inputs={}, out_dir="out"
    )


def by_id(registry: Registry) -> dict[int, dict]:
    return {r["id"]: r for r in registry.runs()}


def test_start_and_finish_record_every_field(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "deep" / "registry.sqlite")
    park_file = tmp_path / "park.yaml"
    park_file.write_text("name: xushuguan\n")
    inputs = {"park": sha256_file(park_file), "prices": "day-ahead prices from the TOU table"}
    before = datetime.now(UTC)
    run_id = registry.start(
        job="schedule",
        date="2026-05-01",
        park="xushuguan",
        scenario_hash=sha256_file(park_file),
        inputs=inputs,
        out_dir="runs/schedule/2026-05-01",
        note="first run",
    )
    [row] = registry.runs()
    assert row["id"] == run_id
    assert row["status"] == "running"
    assert (row["job"], row["date"], row["park"]) == ("schedule", "2026-05-01", "xushuguan")
    assert row["scenario_hash"] == sha256_text("name: xushuguan\n")
    assert row["inputs"] == inputs
    assert row["out_dir"] == "runs/schedule/2026-05-01"
    assert row["pid"] == os.getpid()
    assert row["proc_start"] == process_start(os.getpid())
    assert row["note"] == "first run"
    started = datetime.fromisoformat(row["started_at"])
    assert started.utcoffset().total_seconds() == 0
    assert started >= before.replace(microsecond=before.microsecond // 1000 * 1000)
    assert row["ended_at"] is None and row["duration_s"] is None and row["exit_code"] is None

    kpis = {"sites": {"electronics": {"bill_cny": 1234.5, "peak_kw": float("nan")}}}
    registry.finish(
        run_id,
        status="fallback",
        exit_code=0,
        objective_cny=98765.4,
        kpis=kpis,
        outputs=[Path("runs/schedule/2026-05-01/schedule.csv")],
        message="PV from clear-sky persistence",
    )
    [row] = registry.runs()
    assert row["status"] == "fallback"
    assert row["exit_code"] == 0
    assert row["objective_cny"] == pytest.approx(98765.4)
    assert row["kpis"] == {"sites": {"electronics": {"bill_cny": 1234.5, "peak_kw": None}}}
    assert row["outputs"] == ["runs/schedule/2026-05-01/schedule.csv"]
    assert row["message"] == "PV from clear-sky persistence"
    assert datetime.fromisoformat(row["ended_at"]) >= started
    assert row["duration_s"] >= 0.0
    with pytest.raises(ValueError, match="already finished with status 'fallback'"):
        registry.finish(run_id, status="ok", exit_code=0)
    with pytest.raises(ValueError, match="status must be one of"):
        registry.finish(start(registry), status="done", exit_code=0)
    with pytest.raises(ValueError, match="no run 999"):
        registry.finish(999, status="ok", exit_code=0)


def test_runs_filter_and_come_newest_first(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    cases = [  # date, park, status, sites
        ("2026-05-01", "xushuguan", "ok", ["electronics", "logistics"]),
        ("2026-05-01", "xushuguan", "failed", None),
        ("2026-05-02", "xushuguan", "fallback", ["electronics"]),
        ("2026-05-02", "other-park", "ok", ["logistics"]),
        ("2026-05-03", "xushuguan", None, None),  # still running
    ]
    ids = []
    for date, park, status, sites in cases:
        run_id = start(registry, date=date, park=park)
        ids.append(run_id)
        if status:
            kpis = None if sites is None else {"sites": {s: {} for s in sites}}
            registry.finish(run_id, status=status, exit_code=0 if status != "failed" else 3,
                            kpis=kpis)  # fmt: skip

    def got(**filters: object) -> list[int]:
        return [r["id"] for r in registry.runs(**filters)]

    assert got() == ids[::-1]
    assert got(date="2026-05-01") == [ids[1], ids[0]]
    assert got(status="failed") == [ids[1]]
    assert got(status="running") == [ids[4]]
    assert got(site="electronics") == [ids[2], ids[0]]
    assert got(site="logistics") == [ids[3], ids[0]]
    assert got(site="nowhere") == []
    assert got(park="other-park") == [ids[3]]
    assert got(park="xushuguan", date="2026-05-02") == [ids[2]]
    assert got(limit=2) == [ids[4], ids[3]]
    assert got(site="electronics", limit=1) == [ids[2]]
    assert got(since="2000-01-01") == ids[::-1]
    assert got(since="2999-01-01T00:00:00+08:00") == []
    with pytest.raises(ValueError, match="status must be one of"):
        registry.runs(status="done")


def test_killed_run_is_marked_failed_at_next_start(tmp_path: Path, children: list) -> None:
    path = tmp_path / "registry.sqlite"
    dead_pid, dead_id = spawn(children, SLEEPING_RUN, path, "2026-05-01")
    alive_pid, alive_id = spawn(children, SLEEPING_RUN, path, "2026-05-02")
    dead_id, alive_id = int(dead_id), int(alive_id)
    kill(children, dead_pid)
    registry = Registry(path)
    assert by_id(registry)[dead_id]["status"] == "running"  # nobody has looked yet

    new_id = start(registry, date="2026-05-01")
    runs = by_id(registry)
    assert runs[dead_id]["status"] == "failed"
    assert runs[dead_id]["message"] == (
        f"killed or crashed: pid {dead_pid} was no longer running when run {new_id} started"
    )
    assert runs[dead_id]["ended_at"] is not None
    assert runs[alive_id]["status"] == "running"  # its process still runs
    assert runs[new_id]["status"] == "running"

    kill(children, alive_pid)
    assert registry.reap() == 1
    runs = by_id(registry)
    assert runs[alive_id]["status"] == "failed"
    assert runs[alive_id]["message"].startswith(
        f"killed or crashed: pid {alive_pid} was no longer running"
    )
    assert runs[new_id]["status"] == "running"  # this process
    assert runs[dead_id]["message"].endswith(f"when run {new_id} started")  # not reaped twice
    assert registry.reap() == 0


def test_killed_but_unreaped_child_counts_as_dead(tmp_path: Path, children: list) -> None:
    """A SIGKILLed child its parent has not waited for (a zombie) still answers os.kill."""
    if process_start(os.getpid()) is None:
        pytest.skip("no /proc here")
    path = tmp_path / "registry.sqlite"
    pid, run_id = spawn(children, SLEEPING_RUN, path, "2026-05-01")
    os.kill(pid, signal.SIGKILL)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead, left unreaped
    os.kill(pid, 0)  # the zombie's pid still exists
    registry = Registry(path)
    assert registry.reap() == 1
    assert by_id(registry)[int(run_id)]["status"] == "failed"


def test_reused_pid_does_not_keep_a_dead_run_alive(tmp_path: Path) -> None:
    me = process_start(os.getpid())
    if me is None:
        pytest.skip("no process start times here (/proc)")
    registry = Registry(tmp_path / "registry.sqlite")
    run_id = start(registry)
    assert registry.reap() == 0  # same pid, same start time: alive
    with sqlite3.connect(registry.path) as con:  # as if an earlier process had this pid
        con.execute("UPDATE runs SET proc_start = ? WHERE id = ?", (me - 1, run_id))
    con.close()
    assert registry.reap() == 1
    assert registry.runs()[0]["message"].startswith(f"killed or crashed: pid {os.getpid()} ")


def test_date_lock_refuses_a_second_run_for_the_same_date(tmp_path: Path, children: list) -> None:
    holder, _ = spawn(children, LOCK_HOLDER, tmp_path, "2026-05-01")
    entered = False
    with pytest.raises(JobBusyError) as busy:
        with date_lock(tmp_path, "2026-05-01"):
            entered = True
    assert not entered
    error = busy.value
    assert error.exit_code == EXIT_BUSY == 5
    assert error.pid == holder
    text = str(error)
    assert "2026-05-01" in text and f"pid {holder}" in text and "since 20" in text
    assert "kill" in text and str(tmp_path / ".locks" / "2026-05-01.lock") in text

    with date_lock(tmp_path, "2026-05-02"):  # another date: free
        pass

    kill(children, holder)  # the kernel drops a dead process's flock
    with date_lock(tmp_path, "2026-05-01") as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(JobBusyError, match=f"pid {os.getpid()}"):
            with date_lock(tmp_path, "2026-05-01"):  # also within one process
                pass
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        with date_lock(tmp_path, "../escape"):
            pass


def test_concurrent_writers_lose_nothing(tmp_path: Path, children: list) -> None:
    path = tmp_path / "registry.sqlite"  # created by the writers themselves, racing
    pids = [spawn(children, WRITER, path, park)[0] for park in ("east", "west")]
    for proc in children:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in children:
        out, err = proc.communicate(timeout=WRITERS_TIMEOUT_S)
        assert proc.returncode == 0, err
        assert "locked" not in err and out.strip() == "done"
    runs = Registry(path).runs()
    assert len(runs) == 40
    assert {r["status"] for r in runs} == {"ok"}
    assert sorted(r["pid"] for r in runs) == sorted(pids * 20)
    for park in ("east", "west"):
        mine = [r for r in runs if r["park"] == park]
        assert sorted(int(r["inputs"]["i"]) for r in mine) == list(range(20))


def test_unusable_registry_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database, just text " * 100)
    with pytest.raises(RegistryError) as error:
        Registry(junk)
    assert error.value.exit_code == 2 and str(junk) in str(error.value)

    newer = tmp_path / "newer.sqlite"
    Registry(newer)
    with sqlite3.connect(newer) as con:
        con.execute("UPDATE schema_version SET version = ?", (OLD_SCHEMA_VERSION + 1,))
    con.close()
    with pytest.raises(RegistryError, match="newer vpp"):
        Registry(newer)


def test_format_runs_table(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    run_id = start(registry)
    registry.finish(run_id, status="failed", exit_code=3, objective_cny=1234567.891,
                    message="infeasible: " + "x" * 200)  # fmt: skip
    text = format_runs(registry.runs())
    header, line = text.splitlines()
    for column in ("id", "date", "park", "status", "exit", "started", "duration", "objective"):
        assert column in header
    assert "2026-05-01" in line and "failed" in line and "1,234,567.89" in line
    assert "x" * 200 not in line and line.endswith("...")
    assert format_runs([]) == "no runs match"


def test_cli_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "registry.sqlite"
    registry = Registry(path)
    ok_id = start(registry, date="2026-05-01")
    registry.finish(ok_id, status="ok", exit_code=0, kpis={"sites": {"electronics": {}}})
    failed_id = start(registry, date="2026-05-02")
    registry.finish(failed_id, status="failed", exit_code=4, message="solver failed")

    assert main(["runs", "--registry", str(path), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [failed_id, ok_id]
    assert runs[1]["kpis"] == {"sites": {"electronics": {}}} and runs[1]["inputs"] == {}

    assert main(["runs", "--registry", str(path), "--json", "--status", "failed"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["message"]) for r in runs] == [(failed_id, "solver failed")]

    assert main(["runs", "--out", str(tmp_path), "--site", "electronics"]) == 0
    out = capsys.readouterr().out
    assert "status" in out.splitlines()[0] and len(out.splitlines()) == 2

    missing = tmp_path / "nowhere" / "registry.sqlite"
    assert main(["runs", "--registry", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "vpp schedule" in err
    assert not missing.exists()  # looking does not create it
    assert main(["runs", "--registry", str(path), "--date", "2026-5-1"]) == 2


def test_far_since_and_huge_limits_are_answers_not_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "registry.sqlite"
    registry = Registry(path)
    ids = [start(registry), start(registry)]
    # in UTC these fall past year 9999 and before year 1: no run, every run
    assert registry.runs(since="9999-12-31T23:00-05:00") == []
    assert [r["id"] for r in registry.runs(since="0001-01-01T00:00+01:00")] == ids[::-1]
    assert [r["id"] for r in registry.runs(limit=10**30)] == ids[::-1]
    for args in (["--since", "9999-12-31T23:00-05:00"], ["--since", "9999-12-31"]):
        assert main(["runs", "--registry", str(path), *args]) == 0
        assert capsys.readouterr().out.strip() == "no runs match"
    assert main(["runs", "--registry", str(path), "--json", "--limit", str(10**30)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["runs", "--registry", str(path), "--since", "99999-01-01"]) == 2
    err = capsys.readouterr().err
    assert "years 0001 to 9999" in err and "damaged" not in err and "Traceback" not in err


def test_another_applications_database_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    other = tmp_path / "app.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE items (name TEXT)")
    con.execute("INSERT INTO items VALUES ('thesis')")
    con.commit()
    con.close()
    before = other.read_bytes()
    assert main(["runs", "--registry", str(other)]) == 2
    assert "not a vpp run registry" in capsys.readouterr().err
    with pytest.raises(RegistryError, match="not a vpp run registry") as error:
        Registry(other)  # the job's way in: refused before any write
    assert "items" in str(error.value) and error.value.exit_code == 2
    assert other.read_bytes() == before  # same tables, same journal mode, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite"]

    # a registry made before vpp set the application id is still one
    legacy = tmp_path / "legacy.sqlite"
    make_old_registry(legacy, application_id=False, rows=[])
    start(Registry(legacy))
    listing = Registry(legacy, read_only=True)
    assert len(listing.runs()) == 1
    with pytest.raises(ValueError, match="read-only"):
        start(listing)
    assert main(["runs", "--registry", str(legacy), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_a_run_that_could_not_record_its_end_is_recorded_from_its_outputs(
    tmp_path: Path, children: list
) -> None:
    """The job's outputs are the truth: when its final update failed, its summary.json
    says so, and the next start records the run from it instead of 'killed'."""
    registry = Registry(tmp_path / "registry.sqlite")
    pid, line = spawn(children, SLEEPING_RUN, registry.path, "2026-05-01")
    folder = tmp_path / "2026-05-01" / "fallback"
    folder.mkdir(parents=True)
    note = {"run_id": int(line), "recorded": False, "exit_code": 3, "error": "disk I/O error"}
    summary = {"status": "fallback", "failure": "infeasible: limit", "registry": note}
    (folder / "summary.json").write_text(json.dumps(summary))
    with sqlite3.connect(registry.path) as con:
        con.execute("UPDATE runs SET out_dir = ? WHERE id = ?", (str(folder.parent), int(line)))
    con.close()
    kill(children, pid)
    start(registry)  # the next start sweeps
    run = by_id(registry)[int(line)]
    assert (run["status"], run["exit_code"], run["outputs"]) == ("fallback", 3, [str(folder)])
    assert run["message"].startswith("infeasible: limit; recorded when run")
    assert "disk I/O error" in run["message"]
