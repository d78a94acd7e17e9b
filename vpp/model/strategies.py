"""Solver strategies and the chain :func:`vpp.model.solve.solve` tries them in.

A strategy is a named set of HiGHS options. A solve tries the strategies of its chain
in turn, each with a time budget, until one gives an answer: a status in
:data:`ANSWERS` (optimal, or proven infeasible or unbounded, which callers explain).
Any other ending (``Unknown`` after a stalled interior point, a time or iteration
limit, a solve error) is a failure of that strategy, and the next one starts from
scratch. Only when every strategy failed does the solve fail, naming each attempt.

Chains
------
:data:`INTERIOR_FIRST` (sizing, frontier)
    interior point without crossover, then with crossover, then dual simplex. The
    sizing LP couples every step to the sizes; the interior point solves it in about
    2/3 of the dual simplex's time, and needs no vertex.
:data:`SIMPLEX_FIRST` (the default for every other LP: dispatch, rolling, park)
    dual simplex (what HiGHS chooses for these LPs, and about twice as fast as the
    interior point on a year of dispatch), then interior point with crossover, then
    without. The answer is a vertex whenever one of the first two answers, as before.
:data:`MIP_CHAIN`
    HiGHS's branch and cut. A MIP cannot be handed to the LP solvers: HiGHS would drop
    the integrality.

Time budgets
------------
With a time limit :math:`T` for the solve, each strategy but the last may spend
:data:`BUDGET_SHARE` (two thirds) of what is left of :math:`T`, and the last all of it:
a strategy that fails early (a stalled interior point) leaves its time to the next,
and the preferred strategy gets most of a tight limit. Without a limit, each strategy
but the last may spend :data:`DEFAULT_BUDGET_S`, and the last has no limit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from vpp.errors import Problem, ScenarioError, SolverError

#: Model statuses that answer the question (the chain stops there).
ANSWERS = frozenset({"Optimal", "Infeasible", "Unbounded", "Primal infeasible or unbounded"})
#: The answers that (may) mean no solution exists: callers diagnose the model.
INFEASIBLE_STATUSES = frozenset({"Infeasible", "Primal infeasible or unbounded"})
#: Each strategy but the last may spend this share of the time left [-].
BUDGET_SHARE = 2.0 / 3.0
#: Without a time limit, the budget of each strategy but the last [s].
DEFAULT_BUDGET_S = 300.0
#: Statuses that mean the budget ran out.
TIME_LIMIT_STATUSES = frozenset({"Time limit reached"})
#: HiGHS's primal solution status of a feasible point (``info.primal_solution_status``).
FEASIBLE_SOLUTION = 2
#: Statuses of a branch and cut stopped early (its time limit; a node or solution limit,
#: which HiGHS reports as a solution limit); with a feasible point it is a result.
MIP_LIMIT_STATUSES = TIME_LIMIT_STATUSES | frozenset({"Solution limit reached"})


@dataclass(frozen=True)
class Strategy:
    """A named set of HiGHS options.

    Attributes
    ----------
    name : str
        What the reports call it (``interior point``).
    options : tuple
        ``(HiGHS option, value)`` pairs set before the run. The solve puts an option
        an earlier strategy set, and this one does not, back to its value before the
        solve, and restores every option at its end, so none leaks into the next
        strategy nor out of the solve.
    """

    name: str
    options: tuple[tuple[str, Any], ...]

    def with_options(self, **options: Any) -> Strategy:
        """The same strategy with some options changed or added (tests force failures)."""
        merged = dict(self.options)
        merged.update(options)
        return Strategy(self.name, tuple(merged.items()))


INTERIOR_POINT = Strategy(
    "interior point", (("solver", "ipm"), ("run_crossover", "off"), ("presolve", "choose"))
)
INTERIOR_POINT_CROSSOVER = Strategy(
    "interior point with crossover",
    (("solver", "ipm"), ("run_crossover", "on"), ("presolve", "choose")),
)
DUAL_SIMPLEX = Strategy(
    "dual simplex", (("solver", "simplex"), ("run_crossover", "on"), ("presolve", "choose"))
)
BRANCH_AND_CUT = Strategy(
    "branch and cut", (("solver", "choose"), ("run_crossover", "on"), ("presolve", "choose"))
)

INTERIOR_FIRST: tuple[Strategy, ...] = (INTERIOR_POINT, INTERIOR_POINT_CROSSOVER, DUAL_SIMPLEX)
SIMPLEX_FIRST: tuple[Strategy, ...] = (DUAL_SIMPLEX, INTERIOR_POINT_CROSSOVER, INTERIOR_POINT)
MIP_CHAIN: tuple[Strategy, ...] = (BRANCH_AND_CUT,)


@dataclass
class Attempt:
    """One strategy's run.

    Attributes
    ----------
    strategy : str
        Its name.
    status : str
        HiGHS's model status at its end.
    seconds : float
        Wall-clock time [s].
    budget_s : float or None
        Its time budget [s]; None: no limit.
    iterations : int
        Interior point, simplex and crossover iterations (MIP: branch-and-bound nodes).
    gap : float or None
        Relative primal-dual gap at the end: the branch and cut's (MIP), HiGHS's
        primal-dual objective error of an LP answered optimal (any strategy), else the
        last interior point iteration logged [-]; None when HiGHS reported none.
    nodes : int or None
        Branch-and-bound nodes (MIP only).
    feasible : bool
        Whether it ended with a feasible point (a MIP stopped at its time limit may
        have one: the best schedule found, with its ``gap``).
    """

    strategy: str
    status: str
    seconds: float
    budget_s: float | None
    iterations: int = 0
    gap: float | None = None
    nodes: int | None = None
    feasible: bool = False

    def describe(self) -> str:
        """One line: what happened, for messages."""
        if self.status in TIME_LIMIT_STATUSES and self.budget_s is not None:
            text = f"{self.strategy}: stopped at its time budget of {self.budget_s:.3g} s"
        else:
            text = f"{self.strategy}: ended with status '{self.status}' after {self.seconds:.1f} s"
        details = [f"{self.iterations} iterations"]
        if self.nodes is not None:
            details.append(f"{self.nodes} nodes")
        if self.gap is not None and math.isfinite(self.gap):
            details.append(f"gap {self.gap:.2g}")
        return f"{text} ({', '.join(details)})"


@dataclass
class SolverReport:
    """Which strategy answered, and every attempt (for ``summary.json``).

    Attributes
    ----------
    strategy : str or None
        The strategy that answered; None if none did.
    status : str
        Its status (or the last attempt's).
    attempts : list of Attempt
        In order.
    bound_exponent, cost_exponent : int
        The user scaling HiGHS applied (:mod:`vpp.model.scaling`) [-].
    warnings : list of str
        HiGHS's warnings about the model's scaling, if any remained.
    mip : MipReport or None
        The branch and cut's gap and options (a model with integer variables only).
    """

    strategy: str | None
    status: str
    attempts: list[Attempt] = field(default_factory=list)
    bound_exponent: int = 0
    cost_exponent: int = 0
    warnings: list[str] = field(default_factory=list)
    mip: MipReport | None = None

    @property
    def seconds(self) -> float:
        """Time spent over every attempt [s]."""
        return sum(a.seconds for a in self.attempts)

    def _attempt_dict(self, attempt: Attempt) -> dict[str, Any]:
        out = {**asdict(attempt), "seconds": round(attempt.seconds, 4)}
        if self.mip is None:
            del out["feasible"]  # only a MIP may answer with a point that is not optimal
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{strategy, status, iterations, gap, seconds, attempts, scaling, warnings}``,
        and ``mip`` (:class:`MipReport`) for a model with integer variables."""
        last = self.attempts[-1] if self.attempts else None
        return {
            "strategy": self.strategy,
            "status": self.status,
            "iterations": last.iterations if last else 0,
            "gap": last.gap if last else None,
            "seconds": round(self.seconds, 4),
            "attempts": [self._attempt_dict(a) for a in self.attempts],
            "scaling": {
                "user_bound_scale": self.bound_exponent,
                "user_objective_scale": self.cost_exponent,
            },
            "warnings": list(self.warnings),
            **({"mip": self.mip.to_dict()} if self.mip is not None else {}),
        }


@dataclass(frozen=True)
class MipOptions:
    """HiGHS's branch-and-cut options of a solve (``operation.mip_gap``,
    ``operation.mip_time_limit_s``).

    Attributes
    ----------
    gap : float
        Relative gap at which the branch and cut stops (``mip_rel_gap``) [-].
    time_limit_s : float or None
        Its time limit [s] (the solve's own limit, when shorter, wins); None: none.
    """

    gap: float = 1e-4
    time_limit_s: float | None = None


@dataclass(frozen=True)
class MipReport:
    """How a mixed-integer solve ended (``summary.json`` ``solver.mip``).

    Attributes
    ----------
    status : str
        HiGHS's status at the end (``Optimal``, ``Time limit reached``, ...).
    gap : float or None
        Relative gap between the schedule found and the best bound [-].
    proven_optimal : bool
        HiGHS proved the schedule optimal within the requested ``gap_limit``.
    gap_limit : float
        The requested relative gap (``operation.mip_gap``) [-].
    time_limit_s : float or None
        The branch and cut's time limit [s].
    nodes : int or None
        Branch-and-bound nodes.
    """

    status: str
    gap: float | None
    proven_optimal: bool
    gap_limit: float
    time_limit_s: float | None
    nodes: int | None

    def to_dict(self) -> dict[str, Any]:
        """``{status, gap, proven_optimal, gap_limit, time_limit_s, nodes}``."""
        return asdict(self)

    def note(self) -> str | None:
        """The summary note of a schedule not proven optimal; None when proven."""
        if self.proven_optimal:
            return None
        gap = "unknown" if self.gap is None else f"{self.gap:.3g}"
        if self.status in TIME_LIMIT_STATUSES and self.time_limit_s is not None:
            stop = f"at its time limit of {self.time_limit_s:g} s"
        else:
            stop = f"early (HiGHS: {self.status})"
        return (
            f"the mixed-integer solve stopped {stop} with a relative gap of {gap} "
            f"(requested {self.gap_limit:g}): the schedule is the best found, not proven "
            "optimal; raise operation.mip_time_limit_s or operation.mip_gap"
        )


def check_time_limit(time_limit_s: Any) -> float | None:
    """``time_limit_s`` if it is None or a finite, positive number of seconds.

    Raises
    ------
    ScenarioError
        For a non-number, NaN, infinity, zero or a negative value (none means "no
        limit": omit the limit for that).
    """
    if time_limit_s is None:
        return None
    ok = isinstance(time_limit_s, (int, float)) and not isinstance(time_limit_s, bool)
    if ok and math.isfinite(float(time_limit_s)) and float(time_limit_s) > 0.0:
        return float(time_limit_s)
    raise ScenarioError(
        Problem(
            "the solver time limit must be a positive, finite number of seconds",
            key="time_limit_s",
            value=repr(time_limit_s)[:40],
            allowed="a number of seconds > 0, or no limit (omit it)",
            fix="give a limit such as 60, or leave the limit out for none",
        )
    )


def budget_s(
    time_left_s: float | None, last: bool, default_s: float = DEFAULT_BUDGET_S
) -> float | None:
    """The time budget of the next strategy (module docstring) [s]; None: no limit."""
    if time_left_s is None:
        return None if last else default_s
    return time_left_s if last else BUDGET_SHARE * time_left_s


def all_failed(attempts: list[Attempt], time_limit_s: float | None, what: str) -> SolverError:
    """The error for a solve that every strategy failed, naming each attempt."""
    timed_out = any(a.status in TIME_LIMIT_STATUSES for a in attempts)
    if time_limit_s is not None and timed_out:
        fix = f"raise the time limit (it was {time_limit_s:g} s for this solve)"
    elif timed_out:
        fix = "give a time limit long enough for the last strategy, or report this"
    else:
        fix = "please report this with the scenario"
    tried = "; ".join(a.describe() for a in attempts) or "no strategy was tried"
    return SolverError(Problem(f"HiGHS found no answer for {what}: {tried}", fix=fix))
