"""Sweep definitions: reading and checking a sweep file, and the combinations it makes.

A sweep file (YAML) names a scenario, the keys to vary and their values, and the
figures to keep::

    scenario: ../xushuguan-factory.yaml     # relative to the sweep file
    mode: run                               # run, size or finance (below)
    parameters:                             # every combination is run (cartesian product)
      site.batteries[0].energy_kwh: [1000, 2000, 4000]
      site.grid.energy_price.calendar: [jiangsu-2025-industrial, jiangsu-2023-industrial]
      horizon.days: [14]
    metrics: [total_cost_cny, savings_cny, peak_shaving_max_kw]   # optional

A parameter whose value is a mapping is a linked axis: its key paths step together
(``battery: {site.batteries[0].energy_kwh: [1000, 2000], duration_h: 2}``), see
:mod:`vpp.planning.sweep_axes`. Mode ``finance`` runs each combination at the sizes it
gives and values the entries with a ``sizing`` entry as the investment, against the
site without them (:mod:`vpp.planning.sweep_finance`).

A parameter is a dotted key path with ``[i]`` list indices into the scenario as
validated, defaults included (``site.batteries[0].self_discharge_fraction_per_h`` is a
valid path even when the file does not write it). A parameter key may list several
paths separated by commas; each value is then set at all of them (a battery's charge and
discharge power swept together). A relative file path given as a value resolves against
the scenario file's folder, as inside the scenario. Each combination is applied to the
validated scenario and validated again before anything runs (:func:`load_sweep`).
Running the combinations and tabulating their results is :mod:`vpp.planning.sweep`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpp.errors import Problem, ScenarioError, clip, short
from vpp.planning.sweep_axes import combinations_of, parse_parameters, split_key
from vpp.scenario.paths import missing_path, set_path
from vpp.scenario.reach import OUTSIDE_FIX, is_inside, outside_message, project_root
from vpp.scenario.yaml_io import read_yaml

__all__ = [
    "DEFAULT_METRICS",
    "MODES",
    "Sweep",
    "combinations",
    "load_sweep",
    "plain_value",
    "scenario_data",
]

#: What a sweep runs for each combination: ``run`` is :func:`vpp.run`, ``size`` is
#: :func:`vpp.planning.size.size`, ``finance`` is
#: :func:`vpp.planning.sweep_finance.value_as_given` (sizes as given, no sizing solve).
MODES = ("run", "size", "finance")
#: The metrics kept when the sweep file lists none, per mode (dotted keys of the summary;
#: a key naming a group, such as ``sizes``, keeps every number under it).
DEFAULT_METRICS = {
    "run": (
        "total_cost_cny",
        "savings_cny",
        "energy_cost_cny",
        "demand_charge_cny",
        "peak_shaving_max_kw",
        "kpis.self_sufficiency_fraction",
        "kpis.equivalent_full_cycles",
        "carbon.location_based_t",
    ),
    "size": (
        "sizes",
        "annualized_investment_cny",
        "annual_savings_cny",
        "annual_co2_avoided_t",
        "finance.npv_cny",
        "finance.irr_fraction",
        "finance.simple_payback_years",
    ),
    "finance": (
        "sizes",
        "annual_savings_cny",
        "finance.capex_cny",
        "finance.npv_cny",
        "finance.irr_fraction",
        "finance.simple_payback_years",
        "finance.discounted_payback_years",
    ),
}
#: Most combinations named in one problem of an invalid value [-].
SHOWN_COMBINATIONS = 5
#: Keys a sweep file may hold.
SWEEP_KEYS = ("scenario", "mode", "parameters", "metrics", "description")


@dataclass(frozen=True)
class Sweep:
    """A validated sweep definition.

    Attributes
    ----------
    file : pathlib.Path
        The sweep file.
    scenario_file : pathlib.Path
        The scenario it varies.
    mode : str
        One of :data:`MODES`.
    parameters : dict of str to list
        Key path -> values, in the file's order (a linked axis's key paths in its order).
    metrics : tuple of str
        Dotted summary keys kept in the results (a key that names a group, such as
        ``kpis.equivalent_full_cycles``, keeps every entry under it).
    base : dict
        The validated scenario dumped as JSON-compatible data, defaults included.
    axes : tuple of tuple of str
        The key paths of each axis, in the file's order: one for a parameter varied
        alone, several for a linked axis (they step together). Empty: one axis per
        parameter.
    links : dict of str to tuple of str
        The linked axes: their names in the file -> their key paths.
    """

    file: Path
    scenario_file: Path
    mode: str
    parameters: dict[str, list[Any]]
    metrics: tuple[str, ...]
    base: dict[str, Any] = field(repr=False)
    axes: tuple[tuple[str, ...], ...] = ()
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.axes:
            object.__setattr__(self, "axes", tuple((k,) for k in self.parameters))

    @property
    def currency(self) -> str:
        """The currency of every money metric and parameter: the scenario's ``currency:``
        (:func:`load_sweep` refuses a sweep whose combinations have several)."""
        swept = self.parameters.get("currency")
        return str(swept[0] if swept else self.base.get("currency") or "CNY")

    @property
    def runs(self) -> int:
        """The number of combinations [-]."""
        return math.prod(len(self.parameters[axis[0]]) for axis in self.axes)

    def definition(self) -> dict[str, Any]:
        """The sweep as plain data (for ``sweep.json``)."""
        return {
            "sweep_file": str(self.file),
            "scenario": str(self.scenario_file),
            "mode": self.mode,
            "parameters": {k: [plain_value(v) for v in vs] for k, vs in self.parameters.items()},
            "metrics": list(self.metrics),
            "runs": self.runs,
            "currency": self.currency,
            **({"linked": {k: list(v) for k, v in self.links.items()}} if self.links else {}),
        }


# ---------------------------------------------------------------------------- reading


def load_sweep(path: str | Path, *, allow_outside: bool = False) -> Sweep:
    """Read and check a sweep file, and validate every combination it makes.

    Parameters
    ----------
    path : str or pathlib.Path
        The sweep YAML file.
    allow_outside : bool
        Let the sweep, its scenario and the values it sets name files outside the
        sweep's project folder (the parent of the sweep file's folder;
        :mod:`vpp.scenario.reach`).

    Raises
    ------
    ScenarioError
        Every problem found: missing or unreadable file, unknown keys or mode, missing
        scenario file, an empty ``parameters`` or value list, a key path that is not in
        the scenario (with the valid paths near it), combinations that make the scenario
        invalid (each message once, with the combinations it hit), a file outside the
        project folder; in mode ``finance``, a combination without a ``finance`` entry
        or without an entry with a ``sizing`` entry to value.
    """
    from vpp.scenario.load import load_scenario

    path = Path(path)
    file = str(path)
    raw = _read_yaml(path)
    root = None if allow_outside else project_root(path)
    problems: list[Problem] = []
    for key in raw:
        if key not in SWEEP_KEYS:
            problems.append(
                Problem(
                    f"unknown key {short(str(key), 60)}",
                    file=file,
                    key=clip(str(key), 60),
                    allowed=", ".join(SWEEP_KEYS),
                    fix="remove it or correct its spelling",
                )
            )
    mode = raw.get("mode", "run")
    if mode not in MODES:
        problems.append(
            Problem(
                "unknown mode",
                file=file,
                key="mode",
                value=short(mode),
                allowed=", ".join(MODES),
                fix="run: dispatch each combination (vpp run); size: size it (vpp size)",
            )
        )
    elif mode == "size" and importlib.util.find_spec("vpp.planning.size") is None:
        problems.append(
            Problem(
                "mode 'size' needs vpp.planning.size, which this installation does not have",
                file=file,
                key="mode",
                value="'size'",
                fix="use mode: run, or update vpp",
            )
        )
    metrics = _metrics(raw.get("metrics"), file, problems) or DEFAULT_METRICS.get(mode, ())
    parameters, axes, links = parse_parameters(raw.get("parameters"), file, problems)
    scenario_file = _scenario_file(raw.get("scenario"), path, problems, root)
    if problems or scenario_file is None:
        raise ScenarioError(problems)

    scenario = load_scenario(scenario_file, allow_outside=allow_outside, root=root)
    base = scenario.model_dump(mode="json")
    for key in parameters:
        for one in split_key(key):
            problem = _check_path(base, one, file, key)
            if problem is not None:
                problems.append(problem)
    _one_currency(parameters, file, problems)
    if problems:
        raise ScenarioError(problems)
    sweep = Sweep(path, scenario_file, mode, parameters, metrics, base, axes, links)
    _validate_combinations(sweep, root)
    return sweep


def _one_currency(parameters: dict[str, list[Any]], file: str, problems: list[Problem]) -> None:
    """A sweep compares money in one currency: ``currency`` swept over several values is
    a problem (vpp converts no money)."""
    codes = parameters.get("currency")
    if codes is not None and len({str(c) for c in codes}) > 1:
        problems.append(
            Problem(
                "a sweep compares money in one currency, and this one sweeps several",
                file=file,
                key="parameters.currency",
                value=short(codes),
                allowed="one currency for every combination",
                fix="sweep one currency per sweep file (vpp converts no money)",
            )
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    from vpp.scenario.load import not_a_file_problem

    if not path.is_file():
        raise ScenarioError(
            Problem(
                "sweep file not found",
                file=str(path),
                fix="check the path; an example is scenarios/sweeps/battery-and-tariff.yaml",
            )
        )
    raw = read_yaml(path, what="sweep")
    if not isinstance(raw, dict) or not any(k in raw for k in ("scenario", "parameters")):
        raise ScenarioError(not_a_file_problem(raw, str(path), "sweep", ("scenario", "parameters")))
    return raw


def _metrics(raw: Any, file: str, problems: list[Problem]) -> tuple[str, ...]:
    """The listed metrics; empty (the mode's default) when the key is left out."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
        problems.append(
            Problem(
                "metrics must be a non-empty list of summary keys",
                file=file,
                key="metrics",
                value=short(raw),
                allowed="dotted keys of summary.json, e.g. total_cost_cny, "
                "kpis.self_sufficiency_fraction",
                fix="list the metrics, or leave the key out for the default list",
            )
        )
        return ()
    return tuple(dict.fromkeys(raw))


def _scenario_file(
    raw: Any, sweep_file: Path, problems: list[Problem], root: Path | None
) -> Path | None:
    if not isinstance(raw, str) or not raw:
        problems.append(
            Problem(
                "the sweep names no scenario",
                file=str(sweep_file),
                key="scenario",
                value=short(raw),
                fix="add 'scenario: <path to the scenario YAML, relative to the sweep file>'",
            )
        )
        return None
    scenario = Path(os.path.normpath(sweep_file.parent / raw))
    if root is not None and not is_inside(scenario, root):
        problems.append(
            Problem(
                outside_message(raw, root),
                file=str(sweep_file),
                key="scenario",
                allowed=f"scenario files inside {root}",
                fix=OUTSIDE_FIX,
            )
        )
        return None
    if not scenario.is_file():
        problems.append(
            Problem(
                "scenario file not found",
                file=str(sweep_file),
                key="scenario",
                value=f"{short(raw, 160)} (looked for {short(str(scenario), 200)})",
                fix="a relative path is taken from the sweep file's folder",
            )
        )
        return None
    return scenario


# ---------------------------------------------------------------------------- key paths


def _check_path(base: dict[str, Any], key: str, file: str, where: str) -> Problem | None:
    """None when ``key`` is a path into ``base``, else a Problem listing paths near it."""
    try:
        found = missing_path(base, key)
    except ValueError:
        example = "site.batteries[0].energy_kwh"
        return Problem(
            "not a key path",
            file=file,
            key=f"parameters.{clip(where, 200)}",
            value=repr(key),
            allowed=f"dotted keys with [i] list indices, e.g. {example}",
        )
    if found is None:
        return None
    why, near, fix = found
    shown = ", ".join(near[:25]) + (", ..." if len(near) > 25 else "")
    path = clip(key, 200)  # the user's text: shown cut
    return Problem(
        f"the scenario has no key path '{path}': {clip(why, 400)}",
        file=file,
        key=f"parameters.{path}",
        allowed=f"valid paths near it: {shown}",
        fix=fix or "use a path of the validated scenario",
    )


# ---------------------------------------------------------------------------- combinations


def combinations(sweep: Sweep) -> list[dict[str, Any]]:
    """Every combination of the parameter values (cartesian product of the axes, last
    fastest; a linked axis steps its key paths together)."""
    return combinations_of(sweep.parameters, sweep.axes)


def scenario_data(sweep: Sweep, combination: dict[str, Any]) -> dict[str, Any]:
    """The scenario data (not yet validated) with one combination's values set."""
    data = copy.deepcopy(sweep.base)
    for key, value in combination.items():
        for one in split_key(key):
            set_path(data, one, copy.deepcopy(value))
    return data


def _describe(combination: dict[str, Any]) -> str:
    return ", ".join(f"{k}={plain_value(v)}" for k, v in combination.items())


def _validate_combinations(sweep: Sweep, root: Path | None) -> None:
    """Validate every combination (paths it sets inside ``root``, when given); raise one
    ScenarioError with each distinct problem once, naming the combinations it hit.

    Problems are the same when their key and message are: a power of 0 in a linked axis
    crossed with three calendars is one problem naming three combinations, not three.
    """
    from vpp.scenario.load import validate_scenario

    hits: dict[tuple[str | None, str], list[tuple[int, dict[str, Any], Problem]]] = {}
    base_dir = sweep.scenario_file.parent.resolve()
    for i, combination in enumerate(combinations(sweep)):
        try:
            scenario = validate_scenario(
                scenario_data(sweep, combination), base_dir=base_dir, root=root
            )
        except ScenarioError as exc:
            found = list(exc.problems)
        else:
            found = _mode_problems(sweep.mode, scenario)
        for p in found:
            hits.setdefault((p.key, p.message), []).append((i, combination, p))
    if hits:
        raise ScenarioError([_once(sweep, hit) for hit in hits.values()])


def _mode_problems(mode: str, scenario: Any) -> list[Problem]:
    """What a valid scenario lacks for ``mode``: ``finance`` values the entries with a
    ``sizing`` entry (their cost data) with the scenario's ``finance`` entry."""
    if mode != "finance":
        return []
    problems = []
    if scenario.finance is None:
        problems.append(
            Problem(
                "mode 'finance' needs a 'finance' entry (discount rate, analysis period)",
                key="finance",
                value="missing",
                fix="add for example: finance: {discount_rate: 0.06, analysis_years: 20}",
            )
        )
    from vpp.planning.sizing_model import candidates

    if not candidates(scenario):
        problems.append(
            Problem(
                "mode 'finance' values the entries with a 'sizing' entry (their capital "
                "costs) at the sizes the sweep gives, and there is none",
                key="site.pv[i].sizing / site.batteries[i].sizing",
                value="missing",
                fix="add sizing: {capex_cny_per_kwh, capex_cny_per_kw, lifetime_years} to the "
                "battery (or sizing: {capex_cny_per_kw} to a PV array) in the scenario",
            )
        )
    return problems


def _once(sweep: Sweep, hit: list[tuple[int, dict[str, Any], Problem]]) -> Problem:
    """One problem for the combinations in ``hit``, each ``(number, combination, problem)``."""
    first = hit[0][2]
    what = f"{first.key + ': ' if first.key else ''}{first.message}"
    named = [f"combination {i} ({clip(_describe(c), 200)})" for i, c, _ in hit]
    if len(hit) == 1:
        message = f"{named[0]} makes the scenario invalid: {what}"
    elif len(hit) == sweep.runs:
        message = f"every combination ({len(hit)}) makes the scenario invalid: {what}"
    else:
        more = len(named) - SHOWN_COMBINATIONS
        listed = "; ".join(named[:SHOWN_COMBINATIONS]) + (f"; and {more} more" if more > 0 else "")
        message = f"{len(hit)} combinations make the scenario invalid: {what}, in {listed}"
    values = list(dict.fromkeys(p.value for _, _, p in hit if p.value is not None))
    return Problem(
        message,
        file=str(sweep.file),
        key="parameters",
        value=_joined(values) if values else None,
        allowed=first.allowed,
        fix=first.fix or "change or remove that value",
    )


def _joined(values: list[str]) -> str:
    """The first :data:`SHOWN_COMBINATIONS` values, comma-separated."""
    more = ", ..." if len(values) > SHOWN_COMBINATIONS else ""
    return ", ".join(values[:SHOWN_COMBINATIONS]) + more


def plain_value(value: Any) -> Any:
    """A parameter value as a table cell or JSON entry.

    Parameters
    ----------
    value : Any
        A value a sweep sets (a scalar, list or mapping from the sweep file).

    Returns
    -------
    Any
        Scalars (``None``, bool, int, float, str) as they are; anything else as JSON text
        with sorted keys.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, default=str, sort_keys=True)
