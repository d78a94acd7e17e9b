"""Errors raised by vpp, and the exit codes the command line maps them to.

Every input problem is a :class:`Problem` that says where (file, key or column,
timestamp), what was received, what is allowed and how to fix it. Problems are
collected and raised together in one :class:`ScenarioError` or :class:`DataError`.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_SOLVER = 4


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Parameters
    ----------
    message : str
        What is wrong, in the user's words.
    file : str, optional
        The file where the problem is (scenario YAML or series file).
    key : str, optional
        The YAML key path (``site.batteries[0].energy_kwh``) or the column name.
    timestamp : str, optional
        The first timestamp where the problem applies.
    value : str, optional
        The value received, with its unit.
    allowed : str, optional
        What would be accepted.
    fix : str, optional
        How to fix it.
    """

    message: str
    file: str | None = None
    key: str | None = None
    timestamp: str | None = None
    value: str | None = None
    allowed: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.key) if p)
        text = f"{where}: {self.message}" if where else self.message
        if self.timestamp:
            text += f" at {self.timestamp}"
        details = []
        if self.value is not None:
            details.append(f"got {self.value}")
        if self.allowed:
            details.append(f"allowed: {self.allowed}")
        if details:
            text += f" ({'; '.join(details)})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class VppError(Exception):
    """Base class of every error vpp raises on purpose."""

    exit_code = 1

    def __init__(self, problems: str | Problem | list[Problem]):
        if isinstance(problems, (str, Problem)):
            problems = [problems if isinstance(problems, Problem) else Problem(problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ScenarioError(VppError):
    """The scenario file is wrong: unknown key, wrong type, impossible value."""

    exit_code = EXIT_BAD_INPUT


class DataError(VppError):
    """An input series is wrong: missing file or column, NaN, gap, too short, bad timestamps."""

    exit_code = EXIT_BAD_INPUT


class InfeasibleError(VppError):
    """The scenario has no feasible dispatch; the message names the limit and the hours."""

    exit_code = EXIT_INFEASIBLE


class SolverError(VppError):
    """The solver failed, hit a limit, or returned an unusable status."""

    exit_code = EXIT_SOLVER
