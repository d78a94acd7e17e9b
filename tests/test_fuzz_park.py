"""Fuzz: park files. Any park file runs or exits 2/3/4 with a ``vpp:`` message.

Each example mutates the park of ``tests/data/fuzz/park/park.yaml`` (two site files,
one day at 1 h, a shared limit, an event) or one of its site files. The park is read and
optimized through the daily job (``vpp schedule``, about 1 s a day) and, for a few
examples, through ``vpp run PARK`` (slower: it writes every site's report). Site
``file:`` entries naming a file that is not a scenario must never echo it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fuzz_harness import dump_yaml, examples, mutated, run_in_sandbox
from hypothesis import given, settings
from hypothesis import strategies as st

FOLDER = Path(__file__).parent / "data" / "fuzz" / "park"
FILES = {
    "in/park.yaml": FOLDER / "park.yaml",
    "in/sites/works.yaml": FOLDER / "sites" / "works.yaml",
    "in/sites/offices.yaml": FOLDER / "sites" / "offices.yaml",
}
SCHEDULE = [
    "schedule",
    "{root}/in/park.yaml",
    "--date",
    "2026-07-16",
    "--out",
    "{root}/work/out",
    "--forecasts",
    "{root}/no-forecasts",
]
RUN = ["run", "{root}/in/park.yaml", "--out", "{root}/work/out"]
SECRET = "SECRET-MARKER-db: {password: SECRET-MARKER-pw}\nroot:x:0:0: SECRET-MARKER-gecos\n"


def park_files() -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in FILES.items()}


def test_the_base_park_schedules() -> None:
    outcome = run_in_sandbox(park_files(), SCHEDULE, ["{root}/work/out"])
    assert outcome.code == 0, outcome.describe()


@settings(max_examples=examples(20), deadline=60_000)
@given(st.sampled_from(sorted(FILES)), st.data())
def test_mutated_park_schedules_or_exits_with_a_message(name: str, data: st.DataObject) -> None:
    files = park_files()
    files[name] = dump_yaml(data.draw(mutated(yaml.safe_load(files[name]))))
    run_in_sandbox(files, SCHEDULE, ["{root}/work/out"])


@settings(max_examples=examples(3), deadline=120_000)
@given(st.data())
def test_mutated_park_runs_or_exits_with_a_message(data: st.DataObject) -> None:
    files = park_files()
    files["in/park.yaml"] = dump_yaml(data.draw(mutated(yaml.safe_load(files["in/park.yaml"]))))
    run_in_sandbox(files, RUN, ["{root}/work/out"])


@pytest.mark.parametrize("command", ["run", "schedule"])
@pytest.mark.parametrize("target", ["../secret/passwd", "{root}/secret/passwd"])
def test_a_site_file_that_is_not_a_scenario_is_never_echoed(command: str, target: str) -> None:
    """The issue: a password file named as a site was printed and stored in the registry."""
    files = park_files()
    files["secret/passwd"] = SECRET
    tree = yaml.safe_load(files["in/park.yaml"])
    tree["sites"][1] = {"file": target}
    files["in/park.yaml"] = dump_yaml(tree)
    argv = RUN if command == "run" else SCHEDULE
    holder = {}

    def registry_text(root: Path) -> None:
        db = root / "work" / "out" / "registry.sqlite"
        holder["db"] = db.read_bytes() if db.is_file() else b""
        files_text = b"".join(p.read_bytes() for p in (root / "work").rglob("*") if p.is_file())
        holder["all"] = files_text

    outcome = run_in_sandbox(files, argv, ["{root}/work/out"], after=registry_text)
    assert outcome.code == 2, outcome.describe()
    assert "SECRET-MARKER" not in outcome.stderr + outcome.stdout, outcome.describe()
    assert b"SECRET-MARKER" not in holder["all"], "the secret was written into the outputs"
