"""Load a park file and make the inputs of every site and demand-response event."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from vpp.assets.storage import per_step_at
from vpp.errors import DataError, Problem, ScenarioError, VppError
from vpp.inputs.site import SiteInputs, build_inputs, make_horizon
from vpp.scenario.common import SeriesSpec, step_minutes
from vpp.scenario.load import load_scenario, not_a_file_problem, problems_of, validate_scenario
from vpp.scenario.park import ParkScenario
from vpp.scenario.reach import project_root
from vpp.scenario.schema import Scenario
from vpp.scenario.yaml_io import read_yaml
from vpp.timeseries import Horizon

#: Days of metered history read before an event for its baseline [days].
HISTORY_DAYS = 21


@dataclass(frozen=True)
class Park:
    """A validated park: its spec and one site scenario per site (on the park's horizon),
    and ``notes``: what loading changed in the sites without it being an error (a
    per-step loss converted to the park's step), one sentence each."""

    spec: ParkScenario
    sites: dict[str, Scenario]
    file: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def currency(self) -> str:
        """The currency of the park's money amounts: the park file's ``currency:``, else
        its sites' one currency (:func:`load_park` checks they agree), else CNY."""
        if self.spec.currency is not None:
            return self.spec.currency
        codes = {s.currency for s in self.sites.values()}
        return codes.pop() if len(codes) == 1 else "CNY"


@dataclass(frozen=True)
class EventInputs:
    """A demand-response event on the horizon.

    Attributes
    ----------
    steps : numpy.ndarray
        Positions of the event's steps in the horizon.
    baseline_kw : dict of str to numpy.ndarray
        Each site's baseline on the event's steps [kW] (the rules' similar-day average of
        its metered net import).
    rate_cny_per_kw : float
        Payment per kW of response per event [CNY/kW].
    """

    event: Any
    steps: np.ndarray
    baseline_kw: dict[str, np.ndarray] = field(default_factory=dict)
    rate_cny_per_kw: float = 0.0
    baseline_days: list[str] = field(default_factory=list)

    @property
    def park_baseline_kw(self) -> float:
        """The park's baseline: the sum of the sites', averaged over the event [kW]."""
        return float(sum(b.mean() for b in self.baseline_kw.values()))


#: A mapping is a park file when it holds this key.
PARK_MARKS = ("sites",)


def is_park_file(path: str | Path) -> bool:
    """Whether a YAML file is a park (it lists ``sites``) rather than a site scenario.

    A file that cannot be read is not a park: the scenario loader then reports why.
    """
    try:
        data = read_yaml(path, what="scenario")
    except ScenarioError:
        return False
    return isinstance(data, dict) and "sites" in data


def load_park(path: str | Path, *, allow_outside: bool = False) -> Park:
    """Load and validate a park file and every site it lists.

    Parameters
    ----------
    path : str or pathlib.Path
        The park YAML file.
    allow_outside : bool
        Let the park and its sites name files outside the park's project folder (the
        parent of the park file's folder; :mod:`vpp.scenario.reach`).

    Raises
    ------
    ScenarioError
        Bad park or site entries (each with file and key), a site listed twice, a file
        outside the project folder, a file that is not a park.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(Problem("park file not found", file=str(path), fix="check the path"))
    data = read_yaml(path, what="park")
    if not isinstance(data, dict) or not any(k in data for k in PARK_MARKS):
        raise ScenarioError(not_a_file_problem(data, str(path), "park", PARK_MARKS))
    root = None if allow_outside else project_root(path)
    context = {"base_dir": path.parent.resolve(), "root": root}
    try:
        spec = ParkScenario.model_validate(data, context=context)
    except ValidationError as exc:  # each error a Problem with its key path
        raise ScenarioError(problems_of(exc, str(path))) from None
    notes: list[str] = []
    sites = _sites(spec, path, root, allow_outside, notes)
    return Park(spec, sites, str(path), tuple(notes))


def _sites(
    spec: ParkScenario, path: Path, root: Path | None, allow_outside: bool, notes: list[str]
) -> dict[str, Scenario]:
    """Every site on the park's horizon; ``notes`` gains what that changed in a site file
    written for another step (:func:`_on_park_step`)."""
    sites: dict[str, Scenario] = {}
    problems: list[Problem] = []
    where: dict[str, str] = {}
    for i, ref in enumerate(spec.sites):
        key = f"sites[{i}]"
        try:
            if ref.file is not None:
                scenario = load_scenario(ref.file, allow_outside=allow_outside, root=root)
            else:
                inline = {**ref.inline, "horizon": spec.horizon.model_dump(exclude_none=True)}
                inline.setdefault("name", ref.name or f"site{i}")
                if spec.currency is not None:
                    inline.setdefault("currency", spec.currency)
                scenario = validate_scenario(
                    inline, base_dir=path.parent.resolve(), file=str(path), root=root
                )
        except VppError as exc:
            for p in exc.problems:
                problems.append(
                    Problem(
                        p.message,
                        file=p.file or str(path),
                        key=f"{key}: {p.key or ''}",
                        timestamp=p.timestamp,
                        value=p.value,
                        allowed=p.allowed,
                        fix=p.fix,
                    )
                )
            continue
        name = ref.name or scenario.name
        if name in sites:
            problems.append(
                Problem(
                    f"site '{name}' is in the park twice (first as {where[name]})",
                    file=str(path),
                    key=key,
                    value=name,
                    fix="list each site once, or give the second one another name",
                )
            )
            continue
        where[name] = key
        if ref.file is not None:
            scenario = _on_park_step(scenario, spec, name, str(ref.file), notes)
        sites[name] = scenario.model_copy(
            update={"name": name, "horizon": spec.horizon, "timezone": spec.timezone}
        )
    problems += _currency_problems(spec, path, sites, where)
    if problems:
        raise ScenarioError(problems)
    return sites


def _currency_problems(
    spec: ParkScenario, path: Path, sites: dict[str, Scenario], where: dict[str, str]
) -> list[Problem]:
    """A site whose currency is not the park file's ``currency:``, one problem each; with
    no park currency, sites in several currencies (vpp converts no money)."""
    problems = []
    files = {f"sites[{i}]": ref.file for i, ref in enumerate(spec.sites)}
    for name, site in sites.items():
        if spec.currency is None or site.currency == spec.currency:
            continue
        file = files[where[name]]
        own = f"its file {file}" if file is not None else "its inline entry"
        problems.append(
            Problem(
                f"site '{name}' states its money in {site.currency}, the park in {spec.currency}",
                file=str(path),
                key=f"{where[name]}.currency",
                value=f"park: {spec.currency}, site '{name}' ({own}): {site.currency}"
                + ("" if "currency" in site.model_fields_set else ", as it states no currency"),
                allowed=f"the park's currency {spec.currency} for every site",
                fix=f"give {own} 'currency: {spec.currency}', or the park file 'currency: "
                f"{site.currency}' (vpp converts no money)",
            )
        )
    currencies = {name: s.currency for name, s in sites.items()}
    if spec.currency is None and len(set(currencies.values())) > 1:
        problems.append(
            Problem(
                "the park's sites state their money in different currencies",
                file=str(path),
                key="sites[*].currency",
                value=", ".join(f"{n}: {c}" for n, c in currencies.items()),
                allowed="one currency for every site",
                fix="give every site the same 'currency:', or the park file 'currency:' "
                "(vpp converts no money)",
            )
        )
    return problems


def _on_park_step(
    scenario: Scenario, spec: ParkScenario, name: str, file: str, notes: list[str]
) -> Scenario:
    """A site file written for another step than the park's, with its per-step storage
    losses converted to the park's step (:func:`vpp.assets.storage.per_step_at`) and a
    note for each."""
    own_h = step_minutes(scenario.horizon.step) / 60.0
    park_h = step_minutes(spec.horizon.step) / 60.0
    site, changed = per_step_at(scenario.site, own_h, park_h)
    notes += [f"site '{name}' ({file}): {note}" for note in changed]
    return scenario.model_copy(update={"site": site}) if changed else scenario


def park_horizon(park: Park) -> Horizon:
    """The park's horizon (every site runs on it)."""
    first = next(iter(park.sites.values()))
    return make_horizon(first)


def _inputs_task(scenario: Scenario) -> SiteInputs:
    """One site's inputs (a worker's task for :func:`site_inputs`)."""
    return build_inputs(scenario)


#: Parks with more sites than this read their sites' inputs in parallel when workers are
#: given (spawning workers costs about 3 s).
PARALLEL_INPUTS_MIN_SITES = 50


def site_inputs(
    park: Park, *, workers: int | None = None, scheduler: str | None = None
) -> dict[str, SiteInputs]:
    """Every site's inputs on the park's horizon (problems of all sites together).

    With ``workers`` > 1 (or a Dask ``scheduler``) and more than
    :data:`PARALLEL_INPUTS_MIN_SITES` sites, the sites are read in parallel
    (:func:`vpp.parallel.run_many`): the inputs (load profiles, pvlib PV models) are most
    of a large park's run time.
    """
    out: dict[str, SiteInputs] = {}
    problems: list[Problem] = []
    kind: type[VppError] = DataError
    parallel = (scheduler is not None or (workers or 1) > 1) and len(
        park.sites
    ) > PARALLEL_INPUTS_MIN_SITES
    ready: dict[str, Any] = {}
    if parallel:
        from vpp.parallel import run_many

        names = list(park.sites)
        outcomes = run_many(
            _inputs_task, [park.sites[n] for n in names], workers=workers, scheduler=scheduler
        )
        ready = {n: o for n, o in zip(names, outcomes) if o.error is None}
    for name, scenario in park.sites.items():
        try:
            if name in ready:
                out[name] = ready[name].value
                continue
            out[name] = build_inputs(scenario)
        except VppError as exc:
            kind = type(exc) if not problems else kind
            problems += [replace(p, message=f"site '{name}': {p.message}") for p in exc.problems]
    if problems:
        raise kind(problems)
    return out


def metered_history_kw(
    scenario: Scenario,
    start: pd.Timestamp,
    days: int,
    *,
    load_only: bool = False,
    purpose: str | None = None,
) -> pd.Series:
    """A site's metered net import over ``days`` days before ``start`` [kW].

    Without meter files the history is what the site's meter would have shown without
    the virtual power plant: its pv-only baseline (:func:`vpp.runs.baseline.baseline_schedule`:
    the load, the flexible loads at their defaults, EV fleets charging as they arrive,
    less the PV it had, exported up to the export limit; batteries idle).
    ``load_only`` returns the load itself. ``purpose`` (what reads the history, e.g.
    "the demand-response baseline") goes into the message of a data or scenario problem
    of the history, with the history window.
    """
    begin = (start - pd.Timedelta(days=days)).normalize()
    past = _past_scenario(scenario, begin, days, load_only)
    key = (past.model_dump_json(), str(begin), days, load_only, tuple(_file_stamps(past, [])))
    found = _HISTORY_CACHE.get(key)
    if found is None:
        try:
            found = _history_kw(past, load_only)
        except (DataError, ScenarioError) as exc:
            if purpose is None:
                raise
            problems = [_history_problem(p, purpose, begin, days) for p in exc.problems]
            raise type(exc)(problems) from exc
        if len(_HISTORY_CACHE) >= HISTORY_CACHE_SIZE:
            _HISTORY_CACHE.pop(next(iter(_HISTORY_CACHE)))
        _HISTORY_CACHE[key] = found
    return found.copy()


#: Site histories kept per process (:func:`metered_history_kw`, keyed by the scenario,
#: the days and the state of the files it names): a re-run or an intraday re-plan in the
#: same process, or the next day's events, read the same days again [histories].
HISTORY_CACHE_SIZE = 512
_HISTORY_CACHE: dict[tuple, pd.Series] = {}


def _file_stamps(value: Any, out: list) -> list:
    """Every file a scenario names, with its modification time and size (None: absent)."""
    if isinstance(value, Path):
        try:
            stat = value.stat()
            out.append((str(value), stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append((str(value), None, None))
    elif isinstance(value, dict):
        for v in value.values():
            _file_stamps(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _file_stamps(v, out)
    elif hasattr(value, "model_dump"):
        _file_stamps(value.model_dump(), out)
    return out


def _past_scenario(scenario: Scenario, begin: pd.Timestamp, days: int, load_only: bool) -> Scenario:
    """The scenario on the ``days`` days from ``begin``, perfect foresight (the load alone
    with ``load_only``), without the inputs the baseline does not read: a series import
    limit or export price, demand charges, green contracts and targets, emissions and
    carbon price (their series need not cover the history)."""
    past = scenario.model_copy(
        update={
            "horizon": scenario.horizon.model_copy(
                update={"start": begin.tz_localize(None).to_pydatetime(), "end": None, "days": days}
            ),
            "operation": scenario.operation.model_copy(update={"mode": "perfect"}),
        }
    )
    # The baseline is the site's power flows: what only prices, limits the baseline is
    # not held to, or what is settled afterwards read is left out, so that its series
    # need not cover the history window (the export limit and the energy price stay).
    grid = past.site.grid
    drop: dict[str, Any] = {}
    if isinstance(grid.import_limit_kw, SeriesSpec):
        drop["import_limit_kw"] = None
    if isinstance(grid.export_price_cny_per_kwh, SeriesSpec):
        drop["export_price_cny_per_kwh"] = 0.0
    if load_only and isinstance(grid.export_limit_kw, SeriesSpec):
        drop["export_limit_kw"] = 0.0
    site_update: dict[str, Any] = {
        "grid": grid.model_copy(update=drop),
        "demand_charges": [],
        "green_contracts": [],
        "renewable_target": None,
        "carbon_price": None,
        "emissions": type(past.site.emissions)(),
    }
    if load_only:  # the load alone: no PV model to run
        site_update.update(pv=[], ev_fleets=[])
    return past.model_copy(update={"site": past.site.model_copy(update=site_update)})


def _history_problem(problem: Problem, purpose: str, begin: pd.Timestamp, days: int) -> Problem:
    """A problem of the history pass, saying that ``purpose``'s history window (not the
    run's horizon) needs the input."""
    end = begin + pd.Timedelta(days=days)
    return replace(
        problem,
        message=(
            f"{purpose} reads the site's history, {days} days from "
            f"{begin:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive), before the run: {problem.message}"
        ),
        fix=(
            f"extend the input to cover the history window from {begin:%Y-%m-%d}; {problem.fix}"
            if problem.fix
            else f"extend the input to cover the history window from {begin:%Y-%m-%d}"
        ),
    )


def _history_kw(past: Scenario, load_only: bool) -> pd.Series:
    """:func:`metered_history_kw` of the past scenario, computed."""
    inputs = build_inputs(past)
    s = inputs.series
    if load_only:
        return s["load_kw"]
    from vpp.runs.baseline import baseline_schedule

    base = baseline_schedule(inputs, past)
    return base["grid_import_kw"] - base["grid_export_kw"]
