"""Fuzz: command-line arguments, output folders, the run registry and ``vpp compare``.

- ``--out`` anywhere (a folder of the user's, ``.``, a file, below a file, the root):
  the run writes its folder or exits 2, and never deletes or changes a file it did not
  write (every sandbox holds the user's ``thesis.txt`` files, checked byte for byte);
- ``--time-limit``, ``vpp runs --since/--limit/--date``: a value or exit 2, never a
  traceback and never "no limit" for a negative or NaN limit;
- ``vpp runs --registry`` on another application's SQLite database: exit 2 and the
  database byte-identical (no WAL, no tables added);
- ``vpp compare`` on damaged ``summary.json`` files: the table or exit 2.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path

import pytest
from fuzz_harness import (
    check,
    data_files,
    dump_yaml,
    examples,
    invoke,
    mutated,
    run_in_sandbox,
    sandbox,
    snapshot,
)
from hypothesis import given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz"
THESIS = "four years of work\n"
USER_FILES = {"mydata/thesis.txt": THESIS, "cwd/notes.txt": THESIS, "afile": THESIS}
OUT_CHOICES = (
    "{root}/mydata",
    ".",
    "{root}/afile",
    "{root}/afile/out",
    "",
    "/",
    "{root}/new/deep/out",
    "{root}/mydata/../mydata",
    "{root}/cwd",
    "/proc/vpp-out",
)


@pytest.mark.parametrize("out", OUT_CHOICES)
def test_out_anywhere_never_loses_a_users_file(out: str) -> None:
    files = {**data_files(FOLDER, ("small-site.yaml",)), **USER_FILES}
    argv = ["run", "{root}/in/small-site.yaml", "--out", out]
    with sandbox() as root:
        for name, content in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            data = content if isinstance(content, bytes) else content.encode()
            (root / name).write_bytes(data)
        args = [a.replace("{root}", str(root)) for a in argv]
        before = snapshot(root)
        outcome = invoke(args, cwd=root / "cwd")
        target = Path(args[-1]) if args[-1] not in ("", ".") else root / "cwd"
        # the only folder that may change is a new one; the user's files must survive
        outs = [] if target.resolve() in (root / "mydata", root / "cwd", Path("/")) else [target]
        if target.resolve() in (root / "mydata", root / "cwd") and outcome.code == 0:
            outs = [target]  # written into: then the user's file must still be there
        for name in USER_FILES:
            assert (root / name).read_text() == THESIS, f"{name} lost\n{outcome.describe()}"
        check(outcome, root=root, before=before, outs=outs, allowed=(0, 2))
        leftovers = [p.name for p in target.parent.glob(f".{target.name}.*")] if outs else []
        assert not leftovers, f"temporary folders left: {leftovers}\n{outcome.describe()}"


@pytest.mark.parametrize("limit", ["-1", "nan", "-inf", "abc"])
def test_a_negative_or_nan_time_limit_is_refused(limit: str) -> None:
    files = data_files(FOLDER, ("small-site.yaml",))
    argv = ["run", "{root}/in/small-site.yaml", "--out", "{root}/work/out", "--time-limit", limit]
    outcome = run_in_sandbox(files, argv, ["{root}/work/out"])
    assert outcome.code == 2, outcome.describe()


RUNS_ARGS = st.one_of(
    st.tuples(
        st.just("--since"),
        st.sampled_from(
            ("9999-12-31", "0001-01-01", "10000-01-01", "-1", "nan", "", "2026-13-01", "999999999")
        ),
    ),
    st.tuples(st.just("--limit"), st.sampled_from(("0", "-1", str(2**63), str(10**30), "x"))),
    st.tuples(st.just("--date"), st.sampled_from(("2026-02-30", "x", "", "2026-07-16T00:00Z"))),
    st.tuples(st.just("--since"), st.text(max_size=12)),
)


@functools.cache
def _registry_bytes() -> bytes:
    """A real registry: one job run on the fuzz park (made once per session)."""
    files = {
        "in/park.yaml": (FOLDER / "park" / "park.yaml").read_bytes(),
        "in/sites/works.yaml": (FOLDER / "park" / "sites" / "works.yaml").read_bytes(),
        "in/sites/offices.yaml": (FOLDER / "park" / "sites" / "offices.yaml").read_bytes(),
    }
    holder = {}
    argv = ["schedule", "{root}/in/park.yaml", "--date", "2026-07-16", "--out", "{root}/job"]

    def keep(root: Path) -> None:
        holder["db"] = (root / "job" / "registry.sqlite").read_bytes()

    run_in_sandbox(files, argv, ["{root}/job"], after=keep)
    return holder["db"]


@settings(max_examples=examples(12), deadline=30_000)
@given(st.lists(RUNS_ARGS, min_size=1, max_size=3))
def test_runs_arguments_list_or_exit_2(args: list) -> None:
    """Listing never changes the registry (its -wal/-shm companions may appear)."""
    files = {"job/registry.sqlite": _registry_bytes()}
    argv = ["runs", "--out", "{root}/job"] + [a for pair in args for a in pair]
    holder = {}

    def keep(root: Path) -> None:
        holder["db"] = (root / "job" / "registry.sqlite").read_bytes()

    run_in_sandbox(files, argv, ["{root}/job"], allowed=(0, 2), after=keep)
    assert holder["db"] == _registry_bytes(), "listing changed the registry"


def test_listing_never_writes_to_another_applications_database() -> None:
    with sandbox() as root:
        db = root / "app.sqlite"
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, secret TEXT)")
        con.execute("INSERT INTO runs (secret) VALUES ('x')")
        con.commit()
        con.close()
        (root / "cwd").mkdir()
        before = snapshot(root)
        outcome = invoke(["runs", "--registry", str(db)], cwd=root / "cwd")
        check(outcome, root=root, before=before, outs=[], allowed=(2,))


@functools.cache
def _summary_text() -> str:
    holder = {}

    def keep(root: Path) -> None:
        holder["s"] = (root / "work" / "out" / "summary.json").read_text(encoding="utf-8")

    argv = ["run", "{root}/in/small-site.yaml", "--out", "{root}/work/out"]
    run_in_sandbox(data_files(FOLDER, ("small-site.yaml",)), argv, ["{root}/work/out"], after=keep)
    return holder["s"]


@settings(max_examples=examples(12), deadline=60_000)
@given(st.data())
def test_compare_damaged_summaries_or_exit_2(data: st.DataObject) -> None:
    summary = json.loads(_summary_text())
    damaged = data.draw(mutated(summary, max_mutations=2))
    text = json.dumps(damaged) if data.draw(st.booleans()) else dump_yaml(damaged)
    files = {"a/summary.json": _summary_text(), "b/summary.json": text}
    argv = ["compare", "{root}/a", "{root}/b", "--out", "{root}/work/out"]
    run_in_sandbox(files, argv, ["{root}/work/out"], allowed=(0, 2))
