"""Errors raised by vpp, and the exit codes the command line maps them to.

Every input problem is a :class:`Problem` that says where (file, key or column,
timestamp), what was received, what is allowed and how to fix it. Problems are
collected and raised together in one :class:`ScenarioError` or :class:`DataError`.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_SOLVER = 4

#: Longest ``value`` a :class:`Problem` prints [characters]; longer ones are cut.
VALUE_LIMIT = 400
#: Longest ``message``, ``allowed`` and ``fix`` a :class:`Problem` prints [characters].
TEXT_LIMIT = 1000
#: Longest ``key`` a :class:`Problem` prints [characters].
KEY_LIMIT = 300
#: Longest ``timestamp`` a :class:`Problem` prints [characters].
TIMESTAMP_LIMIT = 100
#: Most problems an error's message lists; the rest are counted (all stay in ``problems``).
SHOWN_PROBLEMS = 50


def short(value: object, limit: int = 80) -> str:
    """A bounded ``repr`` of a user value, for messages: at most ``limit`` characters.

    Containers are shown to a few levels and items only (:mod:`reprlib`), so the cost
    does not grow with the value: never ``repr()`` a user value in full, it may be huge
    (or, through YAML aliases, exponentially large).
    """
    shower = reprlib.Repr()
    shower.maxlevel, shower.maxdict, shower.maxlist, shower.maxtuple = 3, 6, 6, 6
    shower.maxset = shower.maxfrozenset = shower.maxdeque = shower.maxarray = 6
    shower.maxstring = shower.maxother = shower.maxlong = max(limit, 8)
    return clip(shower.repr(value), limit)


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."


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
        # Every part is cut, so no caller can put an unbounded user string in a message.
        key = clip(str(self.key), KEY_LIMIT) if self.key else None
        where = ": ".join(p for p in (self.file, key) if p)
        message = clip(str(self.message), TEXT_LIMIT)
        text = f"{where}: {message}" if where else message
        if self.timestamp:
            text += f" at {clip(str(self.timestamp), TIMESTAMP_LIMIT)}"
        details = []
        if self.value is not None:
            details.append(f"got {clip(str(self.value), VALUE_LIMIT)}")
        if self.allowed:
            details.append(f"allowed: {clip(str(self.allowed), TEXT_LIMIT)}")
        if details:
            text += f" ({'; '.join(details)})"
        if self.fix:
            text += f". Fix: {clip(str(self.fix), TEXT_LIMIT)}"
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
        lines += [f"  - {p}" for p in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - SHOWN_PROBLEMS} more problems")
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


class OutputError(VppError):
    """An output path cannot be used: the cwd or an ancestor of it, a file, a folder vpp
    did not write, an input of the command, or a place that cannot be written.

    Raised before anything is solved (and again when writing); nothing is replaced.
    """

    exit_code = EXIT_BAD_INPUT


class InternalError(VppError):
    """vpp produced something it must not (a NaN or infinity on its way into an output
    file): a bug, or an input that validation let through. Nothing is written."""

    exit_code = EXIT_SOLVER
