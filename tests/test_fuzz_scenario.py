"""Fuzz: the scenario file. Any scenario runs or exits 2/3/4 with a ``vpp:`` message.

Each example mutates the small valid site of ``tests/data/fuzz/small-site.yaml`` (a
numeric leaf replaced by NaN, infinity, a negative, a huge number, a string, None or a
list; a key dropped; an unknown key added; a value nested deep) and runs
``vpp run SCENARIO --out OUT`` in-process; :func:`fuzz_harness.check` asserts the
property (no traceback, documented exit code and message, no NaN in the outputs, no
write outside ``--out``). YAML texts that are not a scenario at all (empty, a list,
tabs, bad bytes, deep nesting) are fixed cases; alias bombs run in a subprocess limited
to 3 GB of address space and 60 s.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from fuzz_harness import (
    alias_bomb,
    check,
    dump_yaml,
    examples,
    invoke,
    invoke_bounded,
    mutated,
    run_in_sandbox,
    sandbox,
    snapshot,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

BASE = Path(__file__).parent / "data" / "fuzz" / "small-site.yaml"
BASE_TREE = yaml.safe_load(BASE.read_text(encoding="utf-8"))
#: Texts of files outside the scenario's folder that must never be echoed: a password
#: file (a YAML string) and a configuration file (a YAML mapping that is no scenario).
SECRETS = {
    "passwd": "root:x:0:0:SECRET-MARKER-7f3a:/root:/bin/bash\ndaemon:x:1:1:SECRET-MARKER-7f3a:/:\n",
    "config": "SECRET-MARKER-db: {password: SECRET-MARKER-pw}\nroot:x:0:0: SECRET-MARKER-gecos\n",
}


def run_text(text: str | bytes, *, bounded: bool = False, extra: dict | None = None):
    """Write the scenario text into a sandbox, run it and check the property."""
    with sandbox() as root:
        (root / "in").mkdir()
        (root / "cwd").mkdir()
        path = root / "in" / "scenario.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        for name, content in (extra or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(content, encoding="utf-8")
        out = root / "work" / "out"
        argv = ["run", str(path), "--out", str(out)]
        before = snapshot(root)
        if bounded:  # an alias bomb: a correct program refuses it in seconds
            outcome = invoke_bounded(argv, cwd=root / "cwd", timeout_s=30)
        else:
            outcome = invoke(argv, cwd=root / "cwd")
        check(outcome, root=root, before=before, outs=[out])
        return outcome


def test_the_base_scenario_runs() -> None:
    """The starting point is valid (otherwise every mutation only tests validation)."""
    outcome = run_text(BASE.read_text(encoding="utf-8"))
    assert outcome.code == 0, outcome.describe()


def _with(path: tuple, value: object) -> dict:
    import copy

    tree = copy.deepcopy(BASE_TREE)
    node = tree
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return tree


@settings(max_examples=examples(30), deadline=30_000)
@given(mutated(BASE_TREE))
@example(_with(("horizon", "start"), -1))  # found by the long fuzz: a traceback
@example(_with(("timezone",), "x" * 3000))  # found by the long fuzz: exit 1
def test_mutated_scenario_runs_or_exits_with_a_message(tree) -> None:
    run_text(dump_yaml(tree))


NUMERIC_KEYS = (
    ("site", "grid", "export_price_cny_per_kwh"),
    ("site", "grid", "import_limit_kw"),
    ("site", "batteries", 0, "energy_kwh"),
    ("site", "batteries", 0, "charge_efficiency"),
    ("site", "flexible_loads", 0, "energy_kwh"),
    ("site", "pv", 0, "dc_capacity_kw"),
    ("site", "load", "synthetic", "peak_kw"),
    ("site", "carbon_price", "cny_per_t"),
    ("site", "emissions", "activity", "diesel_t"),
)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", NUMERIC_KEYS, ids=lambda k: ".".join(map(str, k)))
def test_non_finite_numbers_are_refused(key, value) -> None:
    """NaN and infinity in any numeric field: exit 2 naming the key (not a NaN bill, not
    a solver failure)."""
    import copy

    tree = copy.deepcopy(BASE_TREE)
    node = tree
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    outcome = run_text(dump_yaml(tree))
    assert outcome.code == 2, outcome.describe()
    assert str(key[-1]) in outcome.stderr, outcome.describe()


TEXTS = {
    "empty": "",
    "a list": "- 1\n- 2\n",
    "a number": "42\n",
    "a string": "just some words\n",
    "tabs": "name: x\n\tsite: 1\n",
    "unclosed": "name: [x\n",
    "duplicate keys": BASE.read_text(encoding="utf-8") + "name: again\n",
    "python tag": "!!python/object/apply:os.system ['echo hacked']\n",
    "deep lists": "[" * 3000 + "]" * 3000 + "\n",
    "deep maps": "a: " + "{b: " * 2000 + "1" + "}" * 2000 + "\n",
    "long key": "x" * 100_000 + ": 1\n",
    "null bytes": "name: a\x00b\n",
    "utf-16": BASE.read_text(encoding="utf-8").encode("utf-16"),
    "latin-1": ("# temp\xe9rature\n" + BASE.read_text(encoding="utf-8")).encode("latin-1"),
    "bom": b"\xef\xbb\xbf" + BASE.read_bytes(),
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("name", TEXTS)
def test_texts_that_are_not_a_scenario(name: str) -> None:
    outcome = run_text(TEXTS[name])
    if name != "bom":  # a UTF-8 BOM is harmless and may be accepted
        assert outcome.code == 2, outcome.describe()


@pytest.mark.parametrize(
    "where",
    ["top level", "description", "battery energy"],
)
def test_alias_bomb_is_bounded(where: str) -> None:
    """A 1 KB alias bomb under a known key: exit 2 within the time and memory bounds."""
    bomb = alias_bomb()
    base = BASE.read_text(encoding="utf-8")
    if where == "top level":
        text = bomb + base
    elif where == "description":
        text = bomb + base + "description: *a8\n"
    else:
        text = bomb + base.replace("energy_kwh: 400", "energy_kwh: *a8")
    outcome = run_text(text, bounded=True)
    assert outcome.code == 2, outcome.describe()


@settings(max_examples=examples(2), deadline=None)
@given(st.integers(2, 9), st.integers(2, 12))
def test_alias_fans_are_bounded(levels: int, width: int) -> None:
    """Alias fans of any size under ``description``: run or exit 2, in bounds."""
    text = alias_bomb(levels, width) + BASE.read_text(encoding="utf-8")
    text += f"description: *a{levels - 1}\n"
    run_text(text, bounded=True)


@pytest.mark.parametrize(
    "how", ["relative passwd", "relative config", "absolute config", "folder", "dev"]
)
def test_extends_never_echoes_a_file_that_is_not_a_scenario(how: str) -> None:
    """``extends:`` naming a password or configuration file outside the scenario's folder:
    exit 2, and not one line of the file in the output."""
    target = {
        "relative passwd": "../secret/passwd",
        "relative config": "../secret/config",
        "absolute config": "{root}/secret/config",
        "folder": "../secret",
        "dev": "/dev/zero",
    }[how]
    base = BASE.read_text(encoding="utf-8")
    files = {"in/scenario.yaml": f"extends: {target}\n{base}"}
    files.update({f"secret/{name}": text for name, text in SECRETS.items()})
    argv = ["run", "{root}/in/scenario.yaml", "--out", "{root}/work/out"]
    outcome = run_in_sandbox(files, argv, ["{root}/work/out"], bounded=how == "dev", timeout_s=30)
    assert outcome.code == 2, outcome.describe()
    assert "SECRET-MARKER" not in outcome.stderr + outcome.stdout, outcome.describe()


def _numeric_paths(tree, prefix=()) -> list[tuple]:
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list):
        items = enumerate(tree)
    else:
        return [prefix] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []
    return [p for k, v in items for p in _numeric_paths(v, (*prefix, k))]


NUMERIC_PATHS = _numeric_paths(BASE_TREE)
EXTREMES = (0.0, 1e-300, 1e-9, 1e6, 1e9, 1e15, 1e100, 1e300, -0.0, 5e-324)


@settings(max_examples=examples(12), deadline=30_000)
@given(
    st.sampled_from(NUMERIC_PATHS),
    st.one_of(st.sampled_from(EXTREMES), st.floats(-1e12, 1e12, allow_nan=False)),
)
@example(("site", "load", "synthetic", "peak_kw"), 5e-324)  # found by the long fuzz
def test_finite_extremes_run_or_exit_with_a_message(path: tuple, value: float) -> None:
    """Finite but extreme numbers that validation may accept: the outputs stay finite
    (exit 0), or the run is refused (2), infeasible (3) or the solver says so (4)."""
    run_text(dump_yaml(_with(path, value)))
