"""The asset units keep one home per kind (issue 13, docs/architecture.md).

- Every registered unit provides every capability of :data:`vpp.assets.base.CAPABILITIES`
  in its own classes (its concern mixins, not :class:`~vpp.assets.base.AssetUnit`), and
  declares ``kind``, ``site_key``, ``spec_model``, ``columns``, ``roles`` and ``on_site``.
- Every column a run writes is declared, with its unit, by the unit of the entry that
  writes it.
- Outside ``vpp/assets/``, no module compares a kind's name or checks an entry against a
  unit's scenario model: read with :mod:`ast`, every comparison (``==``, ``!=``, ``in``,
  ``not in``, ``is``, match cases) against a string that is a registered kind, and every
  ``isinstance`` (or match class pattern) naming a unit's ``spec_model`` class, is named
  with its file and line.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from pathlib import Path

import pandas as pd
import pytest

import vpp
import vpp.assets
from vpp.assets.base import CAPABILITIES, AssetUnit
from vpp.assets.columns import ROLES, role_columns
from vpp.assets.opt_outs import (
    NoShortfallToExplain,
    NotOnTypicalDays,
    PassiveInRules,
    PerStepRows,
    RebuiltEachWindow,
)
from vpp.assets.settled import SettledOverTheHorizon
from vpp.assets.sizing import NotSized
from vpp.scenario.schema import Site

ROOT = Path(vpp.__file__).resolve().parent
REPO = ROOT.parent
ASSETS = ROOT / "assets"
#: Column units the ``columns`` values start with (``"kW: charging power"``).
UNIT_RE = re.compile(r"^[A-Za-z/%\-0-9]+: \S")


def where(cls: type) -> str:
    """``file:line`` of a class."""
    file = Path(inspect.getsourcefile(cls) or "?")
    line = inspect.getsourcelines(cls)[1]
    return f"{file.relative_to(REPO) if file.is_relative_to(REPO) else file}:{line}"


def spec_classes(model: object) -> list[type]:
    """The classes a ``spec_model`` stands for (a class, or an annotated union of them)."""
    if isinstance(model, type):
        return [model]
    return [c for arg in typing.get_args(model) for c in spec_classes(arg)]


def test_a_misspelt_role_is_refused() -> None:
    site = vpp.load_scenario(REPO / "scenarios" / "xushuguan-factory.yaml").site
    assert [c for _, _, c in role_columns(site, "storage_soc")] == ["bess_soc_kwh"]
    with pytest.raises(ValueError, match="unknown column role 'storage_socc'"):
        role_columns(site, "storage_socc")


def test_units_are_registered() -> None:
    kinds = [u.kind for u in vpp.assets.units()]
    assert len(kinds) >= 10, f"only {kinds} registered in vpp/assets/__init__.py"
    assert len(set(kinds)) == len(kinds), f"a kind is registered twice: {kinds}"


#: Shared mixins a unit may inherit to state, in its own class line, that it has nothing
#: to give for a group of capabilities (vpp/assets/opt_outs.py, a kind that is never
#: sized, one settled over the whole horizon rather than in rolling windows).
DECLARED_OPT_OUTS = (
    NotSized,
    SettledOverTheHorizon,
    RebuiltEachWindow,
    NoShortfallToExplain,
    PassiveInRules,
    PerStepRows,
    NotOnTypicalDays,
)
#: Capabilities that are class attributes, not methods (the order inputs are read in).
ATTRIBUTE_CAPABILITIES = ("input_stage",)


@pytest.mark.parametrize("unit", vpp.assets.units(), ids=lambda u: u.kind)
def test_unit_provides_every_capability(unit: AssetUnit) -> None:
    cls = type(unit)
    package = cls.__module__
    missing = []
    for name in CAPABILITIES:
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not (
            owner.__module__ == package
            or owner.__module__.startswith(package + ".")
            or owner in DECLARED_OPT_OUTS  # e.g. "never sized", stated by the unit's mixin
        ):
            got = "nowhere" if owner is None else f"{owner.__module__}.{owner.__qualname__}"
            missing.append(
                f"{where(cls)}: {cls.__name__} ('{unit.kind}') does not provide capability "
                f"'{name}' in its own classes (found: {got}); add it to its concern's mixin "
                f"in {package.replace('.', '/')}/"
            )
        elif name not in ATTRIBUTE_CAPABILITIES and not callable(vars(owner)[name]):
            missing.append(f"{where(owner)}: {owner.__qualname__}.{name} is not a method")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("unit", vpp.assets.units(), ids=lambda u: u.kind)
def test_unit_declares_its_attributes(unit: AssetUnit) -> None:
    cls = type(unit)
    at = where(cls)
    bad = []
    own = {k: v for k in reversed(cls.__mro__) if k is not AssetUnit for k, v in vars(k).items()}
    for name in ("kind", "site_key", "spec_model", "columns", "roles", "on_site"):
        if name not in own:
            bad.append(f"{at}: {cls.__name__} does not set '{name}'")
    if bad:
        pytest.fail("\n".join(bad))
    if vpp.assets.unit(unit.kind) is not unit:
        bad.append(f"{at}: '{unit.kind}' is not registered under its kind")
    if unit.site_key not in Site.model_fields:
        bad.append(f"{at}: site_key '{unit.site_key}' is not a field of Site")
    classes = spec_classes(unit.spec_model)
    if not classes or not all(hasattr(c, "model_fields") for c in classes):
        bad.append(f"{at}: spec_model {unit.spec_model!r} is not a scenario model")
    if not isinstance(unit.columns, dict):
        bad.append(f"{at}: columns is not a dict")
    else:
        for key, text in unit.columns.items():
            if not isinstance(key, str) or not isinstance(text, str) or not UNIT_RE.match(text):
                bad.append(f"{at}: columns['{key}'] = {text!r}, want 'unit: meaning'")
    for role, key in unit.roles.items():
        if role not in ROLES:
            bad.append(f"{at}: role '{role}' is not one of vpp.assets.columns.ROLES")
        if key not in unit.columns:
            bad.append(f"{at}: role '{role}' names '{key}', not a key of columns")
    if not isinstance(unit.on_site, bool):
        bad.append(f"{at}: on_site is not a bool")
    assert not bad, "\n".join(bad)


def declared_patterns(site: Site) -> dict[str, re.Pattern[str]]:
    """Every column the site's entries declare, as a pattern, keyed by ``kind: column``."""
    out = {}
    for unit, entry in vpp.assets.site_entries(site):
        for key in unit.columns:
            column = unit.column(entry, key)
            parts = re.split(r"<[^>]+>", column)
            out[f"{unit.kind}: {column}"] = re.compile(
                "^" + "[^_].*".join(re.escape(p) for p in parts) + "$"
            )
    return out


def undeclared(site: Site, schedule: pd.DataFrame, written: set[str]) -> list[str]:
    """Columns of ``schedule`` not declared by exactly one of the site's entries; adds the
    kinds of the declaring units to ``written``."""
    patterns = declared_patterns(site)
    bad = []
    for column in schedule.columns:
        owners = [k for k, p in patterns.items() if p.match(column)]
        if len(owners) != 1:
            bad.append(f"{column}: declared by {owners or 'no unit'}")
        written.update(k.split(":")[0] for k in owners)
    return bad


def test_every_written_column_is_declared_once() -> None:
    """The demo's perfect and rolling runs, and every site of the demo park."""
    scenario = vpp.load_scenario(REPO / "scenarios" / "xushuguan-factory.yaml")
    short = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"days": 14})}
    )
    bad = []
    written: set[str] = set()
    present = {u.kind for u, _ in vpp.assets.site_entries(short.site)}
    for mode in ("perfect", "rolling"):
        result = vpp.run(short, mode=mode)
        bad += [f"factory ({mode}): {b}" for b in undeclared(short.site, result.schedule, written)]
    from vpp.portfolio.park import load_park
    from vpp.portfolio.run import run_park

    park = load_park(REPO / "scenarios" / "park" / "xushuguan-park.yaml")
    for name, result in run_park(park).sites.items():
        site = result.scenario.site
        present |= {u.kind for u, _ in vpp.assets.site_entries(site)}
        bad += [f"park site {name}: {b}" for b in undeclared(site, result.schedule, written)]
    for kind in sorted(present - written):  # a unit with entries wrote none of its columns
        unit = vpp.assets.unit(kind)
        if unit.columns:
            bad.append(f"{where(type(unit))}: '{kind}' declares columns but none was written")
    assert not bad, "columns not declared once in vpp/assets/<kind>/__init__.py:\n" + "\n".join(bad)


# ------------------------------------------------------------------ no kind names outside


def kind_names() -> set[str]:
    return {u.kind for u in vpp.assets.units()}


def spec_names() -> set[str]:
    return {c.__name__ for u in vpp.assets.units() for c in spec_classes(u.spec_model)}


def _strings(node: ast.AST) -> list[str]:
    """String constants of a node: itself, or the elements of a tuple, list or set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _names(node: ast.AST) -> list[str]:
    """Class names a node refers to: a name, an attribute, or a tuple of them."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [n for e in node.elts for n in _names(e)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # A | B
        return _names(node.left) + _names(node.right)
    return []


def _constants(tree: ast.AST) -> dict[str, list[str]]:
    """Module-level names bound to strings or collections of them (``STORES = ("battery",)``,
    ``frozenset({...})``): a comparison with such a name compares with its strings."""
    out: dict[str, list[str]] = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Call) and len(value.args) == 1:  # frozenset(...), set(...)
            value = value.args[0]
        strings = _strings(value)
        for target in targets:
            if isinstance(target, ast.Name) and strings:
                out[target.id] = strings
    return out


def kind_branches(tree: ast.AST, kinds: set[str], specs: set[str]) -> list[tuple[int, str]]:
    """(line, what) of every comparison against a kind's name or check of a spec class."""
    found = []
    constants = _constants(tree)
    specs = specs | {  # `from vpp.scenario.schema import Battery as B`
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name in specs and alias.asname
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                strings = _strings(operand)
                if isinstance(operand, ast.Name):
                    strings = strings + constants.get(operand.id, [])
                hit = sorted(set(strings) & kinds)
                if hit:
                    found.append((node.lineno, f"compares with kind name(s) {hit}"))
                spec = sorted(set(_names(operand)) & specs)
                if spec:
                    found.append((node.lineno, f"compares with scenario model(s) {spec}"))
        elif isinstance(node, ast.match_case):
            for sub in ast.walk(node.pattern):
                if isinstance(sub, ast.MatchValue):
                    hit = sorted(set(_strings(sub.value)) & kinds)
                    if hit:
                        found.append((sub.lineno, f"matches kind name(s) {hit}"))
                elif isinstance(sub, ast.MatchClass):
                    spec = sorted(set(_names(sub.cls)) & specs)
                    if spec:
                        found.append((sub.lineno, f"matches scenario model(s) {spec}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
        ):
            spec = sorted(set(_names(node.args[1])) & specs)
            if spec:
                found.append((node.lineno, f"{node.func.id}(..., {', '.join(spec)})"))
    return found


def test_the_check_finds_kind_branches() -> None:
    """The checker itself: it flags what it must, and leaves the rest."""
    kinds, specs = {"battery", "pv"}, {"Battery", "ShiftableLoad"}
    source = (
        "if a.kind == 'battery': pass\n"
        "if kind in ('pv', 'x'): pass\n"
        "if isinstance(f, ShiftableLoad): pass\n"
        "if isinstance(f, (int, schema.Battery)): pass\n"
        "match k:\n"
        "    case 'pv': pass\n"
        "    case Battery(): pass\n"
        "x = COLORS['battery']\n"
        "if a.kind == other: pass\n"
        "if name == 'bess': pass\n"
        "STORES = frozenset({'battery'})\n"
        "if a.kind in STORES: pass\n"
        "from vpp.scenario.schema import Battery as B\n"
        "if isinstance(f, B): pass\n"
    )
    lines = [line for line, _ in kind_branches(ast.parse(source), kinds, specs)]
    assert lines == [1, 2, 3, 4, 6, 7, 12, 14], lines


def test_no_kind_names_outside_the_units() -> None:
    kinds, specs = kind_names(), spec_names()
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.is_relative_to(ASSETS):
            continue  # a unit may name its own kind
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, what in sorted(kind_branches(tree, kinds, specs)):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {what}")
    assert not offenders, (
        f"{len(offenders)} kind branch(es) outside vpp/assets/ (call a unit's capability "
        "or read a column by its role instead):\n" + "\n".join(offenders)
    )
