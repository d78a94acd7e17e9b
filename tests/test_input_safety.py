"""Safety of inputs: YAML bombs, paths out of the project folder, NaN and infinity, bounds.

- A YAML alias bomb under a known key (scenario, park, demand-response notice) is refused
  in bounded time and memory (run in a subprocess under an address-space limit).
- ``extends:`` and a park site's ``file:`` reach only the project folder (the parent of
  the folder of the file given) unless ``allow_outside``; a file that is not a scenario is
  never quoted (a secret marker in it never reaches the message).
- NaN and infinity are refused in every numeric field; every numeric field of the schema
  has bounds; values shown in messages are bounded.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, get_args

import annotated_types as at
import pytest
import yaml
from helpers import battery, flat_calendar, scenario_dict, write_scenario
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, DataError, Problem, ScenarioError, short
from vpp.portfolio.park import load_park
from vpp.scenario import load_scenario, validate_scenario
from vpp.scenario.common import Strict
from vpp.scenario.paths import all_paths, parse_path, set_path
from vpp.scenario.yaml_io import MAX_ALIAS_NODES, read_yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"
SECRET = "SECRET-MARKER-7f3a"
#: Address space [bytes] and wall time [s] a refused bomb may take (the unbounded loader
#: reached 2.2 GB and was killed after 45 s).
BOMB_MEMORY_BYTES = 1_500_000_000
BOMB_TIMEOUT_S = 60.0


def bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" YAML prefix: anchors a0..a{levels-1}, each ``width`` x the last."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def run_bounded(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a subprocess limited to BOMB_MEMORY_BYTES and BOMB_TIMEOUT_S."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (BOMB_MEMORY_BYTES, BOMB_MEMORY_BYTES))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=BOMB_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, dict]:
    """A valid scenario dict and its folder (series files already written)."""
    data = scenario_dict(
        tmp_path,
        [100.0] * 24,
        price=[0.5] * 24,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0)],
    )
    return tmp_path, data


# ---------------------------------------------------------------- YAML bombs


@pytest.mark.parametrize("key", ["description", "batteries"])
def test_alias_bomb_in_a_scenario_is_refused_in_bounded_time_and_memory(case, key):
    folder, data = case
    text = yaml.safe_dump(data, sort_keys=False)
    if key == "description":
        text = bomb() + text + "description: *a8\n"
    else:
        text = bomb() + text.replace("  batteries:\n", "  batteries: *a8\n  old_batteries:\n")
    path = folder / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    code = (
        "import sys, vpp.cli\n"
        f"sys.exit(vpp.cli.main(['run', {str(path)!r}, '--out', {str(folder / 'out')!r}]))"
    )
    done = run_bounded(code, folder)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr[-2000:]
    assert "alias" in done.stderr and "bomb.yaml" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr) < 5000  # the time is bounded by run_bounded's timeout
    assert not (folder / "out").exists()


def test_alias_bomb_in_a_park_file_is_refused(tmp_path):
    park = yaml.safe_load((ROOT / "scenarios" / "park" / "xushuguan-park.yaml").read_text())
    text = bomb() + yaml.safe_dump(park, sort_keys=False) + "description: *a8\n"
    path = tmp_path / "park.yaml"
    path.write_text(text, encoding="utf-8")
    code = f"from vpp.portfolio.park import load_park\nload_park({str(path)!r})"
    done = run_bounded(code, tmp_path)
    assert done.returncode == 1 and "ScenarioError" in done.stderr, done.stderr[-2000:]
    assert "alias" in done.stderr and "MemoryError" not in done.stderr


def test_alias_bomb_in_a_notice_is_refused(tmp_path):
    """The daily job drops a notice it cannot read, and names it in its flags."""
    notices = tmp_path / "notices"
    notices.mkdir()
    (notices / "2026-07-16.yaml").write_text(bomb() + "- *a8\n", encoding="utf-8")
    code = (
        "from pathlib import Path\nfrom vpp.jobs.schedule import read_notices\nflags = []\n"
        f"assert read_notices(Path({str(notices)!r}), flags) == []\nprint(flags)"
    )
    done = run_bounded(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "alias" in done.stdout and "2026-07-16.yaml" in done.stdout


def test_aliases_within_the_budget_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(bomb(levels=3, width=9) + "x: *a2\n", encoding="utf-8")
    data = read_yaml(path)
    assert len(data["x"]) == 9 and len(data["x"][0]) == 9
    assert 9**3 < MAX_ALIAS_NODES


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: &a [1, *a]\n", ["cycle", "line 1"]),
        ("x: " + "[" * 150 + "]" * 150 + "\n", ["too deeply"]),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", ["too deeply"]),
        ("start: 2026-02-30\n", ["day is out of range", "line 1, column 8"]),
        ("a: 1\n b: 2\n", ["not valid YAML", "line 2, column 3"]),
        ("name: a\nname: b\n", ["written twice", "line 2", "first at line 1"]),
        ("x: " + "9" * 5000 + "\n", ["cannot be read", "line 1"]),
        ("a: b\x00\n", ["#x0000"]),
    ],
)
def test_yaml_problems_say_where_without_a_traceback(tmp_path, text, words):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    message = str(info.value)
    assert all(w in message for w in words), message
    assert len(message) < 1000


def test_files_too_large_or_not_text_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.seek(11 * 1024 * 1024)
        f.write(b"\n")
    with pytest.raises(ScenarioError, match="too large"):
        read_yaml(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00" + SECRET.encode() + b"\x89")
    with pytest.raises(ScenarioError, match="not UTF-8") as info:
        load_scenario(binary)
    assert SECRET not in str(info.value)


# ---------------------------------------------------------------- what a file may reach


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    """``proj/scenarios/`` (the file given) and, outside ``proj/``, a secret file."""
    (tmp_path / "proj" / "scenarios").mkdir(parents=True)
    secret = tmp_path / "private" / "passwd"
    secret.parent.mkdir()
    secret.write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n")
    return tmp_path / "proj" / "scenarios", secret


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_extends_outside_the_project_folder_is_refused(tmp_path, how):
    folder, secret = _tree(tmp_path)
    target = "../../private/passwd" if how == "relative" else str(secret)
    path = folder / "child.yaml"
    path.write_text(f"extends: {target}\nname: child\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.key == "extends" and "outside the project folder" in problem.message
    assert "--allow-outside" in (problem.fix or "")
    assert SECRET not in str(info.value)
    # allowed outside, the file is read but, not being a scenario, never quoted
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, allow_outside=True)
    assert "not a vpp scenario file" in str(info.value) and SECRET not in str(info.value)


def test_cli_refuses_extends_outside_and_prints_no_content(tmp_path, capsys):
    folder, _ = _tree(tmp_path)
    path = folder / "child.yaml"
    path.write_text("extends: ../../private/passwd\nname: child\n")
    for extra in ([], ["--allow-outside"]):
        code = vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out"), *extra])
        captured = capsys.readouterr()
        assert code == EXIT_BAD_INPUT
        assert SECRET not in captured.err + captured.out
    assert not (tmp_path / "out").exists()


def test_a_mapping_that_is_not_a_scenario_is_not_quoted(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(f"{SECRET}: 1\npassword: {SECRET}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "not a vpp scenario file" in str(info.value) and SECRET not in str(info.value)


def test_sibling_data_folders_are_inside_the_project_folder(tmp_path):
    """``scenarios/x.yaml`` may use ``../data/load.csv``: the project is ``scenarios/``'s parent."""
    data = scenario_dict(tmp_path / "data", [100.0] * 24)
    data["site"]["load"]["series"]["file"] = "../data/load.csv"
    data["site"]["grid"]["energy_price"] = {"calendar": "jiangsu-2025-industrial"}
    path = write_scenario(tmp_path / "scenarios", data)
    scenario = load_scenario(path)
    assert scenario.site.load.series.file.resolve() == (tmp_path / "data" / "load.csv").resolve()
    # one level further up is outside
    data["site"]["load"]["series"]["file"] = "../../load.csv"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path / "scenarios", data))
    (problem,) = info.value.problems
    assert problem.key == "site.load.series.file" and "outside" in problem.message


def test_a_park_site_outside_the_project_folder_is_refused(tmp_path):
    folder, secret = _tree(tmp_path)
    park = yaml.safe_load((ROOT / "scenarios" / "park" / "xushuguan-park.yaml").read_text())
    park["sites"] = [{"file": str(secret)}]
    path = folder / "park.yaml"
    path.write_text(yaml.safe_dump(park))
    with pytest.raises(ScenarioError) as info:
        load_park(path)
    assert "outside the project folder" in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(ScenarioError) as info:
        load_park(path, allow_outside=True)
    assert "not a vpp scenario file" in str(info.value) and SECRET not in str(info.value)


# ---------------------------------------------------------------- NaN, infinity and bounds


def _numeric_paths(data: Any) -> list[str]:
    out = []
    for path in all_paths(data):
        node: Any = data
        for part in parse_path(path):
            node = node[part]
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            out.append(path)
    return out


def test_nan_and_infinity_are_refused_in_every_numeric_field_of_the_demo():
    base = load_scenario(DEMO).model_dump(mode="json", exclude_none=True)
    paths = _numeric_paths(base)
    assert len(paths) > 40
    for path in paths:
        for bad in (math.nan, math.inf, -math.inf):
            data = yaml.safe_load(yaml.safe_dump(base))
            set_path(data, path, bad)
            with pytest.raises(ScenarioError) as info:
                validate_scenario(data)
            keys = [p.key for p in info.value.problems]
            assert keys == [path], f"{path} = {bad}: {info.value}"


def _numeric_leaves(annotation: Any, metadata: list[Any]) -> list[list[Any]]:
    """The constraints of every int or float inside a field's annotation."""
    if annotation in (int, float):
        return [metadata]
    leaves = []
    args = get_args(annotation)
    if args and any(isinstance(a, FieldInfo) for a in args[1:]):  # Annotated[base, Field(...)]
        inner = [m for a in args[1:] if isinstance(a, FieldInfo) for m in a.metadata]
        return _numeric_leaves(args[0], inner)
    for arg in args:  # X | None: the field's own ge/le apply to X (pydantic's rule)
        leaves += _numeric_leaves(arg, metadata)
    return leaves


#: Numeric fields bounded by a validator rather than by ge/le (checked in their tests).
VALIDATED = {
    ("RenewableTarget", "fraction"),
    ("Finance", "discount_rate"),
    ("RollingSpec", "reoptimize_hour"),
    # a carbon-ledger entry's numbers: vpp.platform.carbon_ledger.kinds.check_entry checks
    # each (finite, 0 to MAX_AMOUNT / MAX_PRICE_CNY, whole certificates) and answers 422
    # with the kind's own rule
    ("EntryIn", "amount_mwh"),
    ("EntryIn", "certificates"),
    ("EntryIn", "amount_t"),
    ("EntryIn", "price_cny_per_mwh"),
    ("EntryIn", "price_cny_per_t"),
}


def test_every_numeric_field_of_the_schema_has_bounds():
    models, todo = set(), [Strict]
    while todo:
        cls = todo.pop()
        models.add(cls)
        todo.extend(cls.__subclasses__())
    unbounded = []
    checked = 0
    for model in models:
        if not issubclass(model, BaseModel) or model is Strict:
            continue
        for name, field in model.model_fields.items():
            for leaf in _numeric_leaves(field.annotation, list(field.metadata)):
                checked += 1
                low = any(isinstance(m, (at.Ge, at.Gt)) for m in leaf)
                high = any(isinstance(m, (at.Le, at.Lt)) for m in leaf)
                if not (low and high) and (model.__name__, name) not in VALIDATED:
                    unbounded.append(f"{model.__name__}.{name}")
    assert checked > 80
    assert not unbounded, f"numeric fields without bounds: {sorted(set(unbounded))}"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("site", "grid", "export_price_cny_per_kwh"), math.nan),
        (("site", "batteries", 0, "energy_kwh"), math.inf),
        (("site", "load", "series", "scale"), math.inf),
        (("site", "load", "series", "scale"), math.nan),
    ],
)
def test_cli_exits_2_on_nan_or_infinity_before_solving(case, capsys, where, value):
    folder, data = case
    node: Any = data
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    path = write_scenario(folder, data)
    assert "nan" in path.read_text() or "inf" in path.read_text()
    code = vpp.cli.main(["run", str(path), "--out", str(folder / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert ".".join(str(p) for p in where if not isinstance(p, int)).split(".")[-1] in err
    assert "finite" in err and "HiGHS" not in err and "Traceback" not in err
    assert not (folder / "out").exists()


def test_series_values_must_be_finite_and_bounded_after_the_scale(case):
    folder, data = case
    data["site"]["load"]["series"]["scale"] = 1e4  # 100 kW x 1e4 = 1e6 kW: in bounds
    scenario = load_scenario(write_scenario(folder, data))
    assert vpp.run(scenario).summary["status"] == "Optimal"
    text = (folder / "load.csv").read_text().splitlines()
    text[4] = text[4].rsplit(",", 1)[0] + ",1e300"
    (folder / "load.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataError) as info:
        vpp.run(load_scenario(write_scenario(folder, data)))
    (problem,) = info.value.problems
    assert "out of range once scaled" in problem.message
    assert problem.timestamp.startswith("2026-01-05T03:00")


# ---------------------------------------------------------------- bounded messages


def test_short_is_bounded_even_for_an_exponential_value():
    value: Any = ["lol"] * 9
    for _ in range(30):  # 9**30 leaves if written out
        value = [value] * 9
    start = time.perf_counter()
    text = short(value)
    assert len(text) <= 80 and time.perf_counter() - start < 0.1
    assert len(short("x" * 10**6, 50)) == 50


def test_every_part_of_a_problem_is_shown_cut():
    huge = "h" * 100_000
    problem = Problem(huge, file="f.yaml", key=huge, timestamp=huge, value=huge, allowed=huge)
    text = str(Problem(huge, key=huge, timestamp=huge, value=huge, allowed=huge, fix=huge))
    assert len(str(problem)) < 3000 and len(text) < 4000
    assert str(Problem("short", key="a.b", fix="do it")) == "a.b: short. Fix: do it"


def test_an_error_lists_the_first_problems_and_counts_the_rest():
    error = ScenarioError([Problem(f"problem {i}") for i in range(120)])
    text = str(error)
    assert len(error.problems) == 120
    assert "problem 49" in text and "problem 50" not in text
    assert text.splitlines()[0] == "120 problems:"
    assert text.splitlines()[-1] == "  ... and 70 more problems"
    assert "more problems" not in str(ScenarioError([Problem("a"), Problem("b")]))


def test_a_huge_value_is_shown_cut(case):
    folder, data = case
    data["site"]["batteries"][0]["name"] = "b" * 100_000
    data["site"]["grid"]["energy_price"] = {"calendar": "c" * 100_000}
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    assert len(str(info.value)) < 3000


def test_many_bad_entries_are_reported_in_bounded_time(case):
    """Each pydantic error is weighed against the others by lookup, not by a scan of them
    all (20 000 bad prices took minutes when every error scanned every other one)."""
    folder, data = case
    grid = data["site"]["grid"]
    grid["energy_price"] = {
        **flat_calendar(0.5),
        "prices_cny_per_kwh": {f"p{i}": "x" for i in range(20_000)},
    }
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    assert time.perf_counter() - start < 10.0
    assert len(info.value.problems) == 20_000


def test_a_value_of_the_wrong_form_gives_one_problem(case):
    """A number-or-series entry: one problem for the form the value is closest to."""
    folder, data = case
    data["site"]["grid"]["export_price_cny_per_kwh"] = math.nan
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    (problem,) = info.value.problems
    assert problem.key == "site.grid.export_price_cny_per_kwh" and "finite" in problem.message
    data["site"]["grid"]["export_price_cny_per_kwh"] = {"file": "x.csv"}
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    (problem,) = info.value.problems
    assert problem.key == "site.grid.export_price_cny_per_kwh.column"
    data["site"]["grid"]["export_price_cny_per_kwh"] = [1, 2]
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    (problem,) = info.value.problems
    assert "calendar" in problem.message and "number" in problem.message


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        (("timezone",), "x" * 300, "unknown time zone"),  # a file name too long
        (("horizon", "start"), -1, "is a number, not a time"),
        (("horizon", "start"), "2026-01-05T00:07", "not on the grid"),
        (("horizon", "start"), "9999-01-01", "outside 1970..2200"),
    ],
)
def test_times_and_zones_are_checked_before_anything_runs(case, where, value, words):
    folder, data = case
    node: Any = data
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    assert words in str(info.value) and len(str(info.value)) < 1000
