"""What each way of planning does with the window occurrences a deferrable load's plan
cuts, in words: the one place that words the notes and flags about them, from the
planning mode (:data:`vpp.assets.inputs.PLANNING`), so that no output states a rule
its mode does not apply.

=============  ===================================  ===================================
planning       an occurrence that opened before      an occurrence that closes after
               the horizon's start                   the horizon's end
=============  ===================================  ===================================
``perfect``    not planned (its run may have         must finish its run inside the
               happened before the horizon)          horizon
``rolling``    no window plans it: nothing of it     operation ends with the last
               is settled                            window at the horizon's end: its
                                                     run is planned before it
``open-end``   as ``rolling``                        the run may go on after the end:
                                                     the backtest plans past it
``job``        carried from the previous run's       what its run needs after the end is
               plan (``state.json`` ``runs``), or    left to the next run
               not planned without one (the job's
               flags, :mod:`.job`)
=============  ===================================  ===================================

A rolling run and the park backtest (``rolling``, ``open-end``) also say what their
windows do with the occurrences they cut (:func:`window_notes`): one under way at a
decision is continued from the settled state, and one that closes after a window's
look-ahead keeps its steps after it as flags, left to a later window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.deferrable.windows import Occurrences

__all__ = [
    "NOTE_OCCURRENCES_MAX",
    "job_carried",
    "job_end_cut",
    "job_not_planned",
    "occurrence_notes",
    "window_notes",
]

#: Occurrences named in a note; the rest are counted [-].
NOTE_OCCURRENCES_MAX = 5


def _stamps(stamps: list[pd.Timestamp]) -> str:
    shown = ", ".join(s.isoformat() for s in stamps[:NOTE_OCCURRENCES_MAX])
    more = len(stamps) - NOTE_OCCURRENCES_MAX
    return shown + (f" and {more} more" if more > 0 else "")


def _opened_before(entry: Any, stamps: list[pd.Timestamp], planning: str) -> str | None:
    head = (
        f"deferrable load '{entry.name}': {len(stamps)} window occurrence(s) opened before "
        "the horizon's start"
    )
    if planning == "perfect":
        return f"{head} and are not planned: {_stamps(stamps)}"
    if planning in ("rolling", "open-end"):
        return f"{head}; nothing of them is settled, so no window plans them: {_stamps(stamps)}"
    return None  # the job: its flag says where the run under way at now comes from


def _closes_after(entry: Any, stamps: list[pd.Timestamp], planning: str) -> str | None:
    head = (
        f"deferrable load '{entry.name}': {len(stamps)} window occurrence(s) close after "
        "the horizon's end"
    )
    if planning == "perfect":
        return f"{head} and must finish their {entry.run_h:g} h inside it: {_stamps(stamps)}"
    if planning == "rolling":
        return (
            f"{head}, where the last window ends and operation with it: their "
            f"{entry.run_h:g} h run is planned before it (checked before the first "
            f"window): {_stamps(stamps)}"
        )
    if planning == "open-end":
        return (
            f"{head}; the backtest plans past it, so their run may go on after it (the "
            f"schedule holds the steps up to the end): {_stamps(stamps)}"
        )
    return None  # the job: its flag says what is left to the next run


def occurrence_notes(entry: Any, occ: Occurrences, planning: str) -> list[str]:
    """The notes on the occurrences the horizon cuts, as ``planning`` treats them
    (module docstring); none in the job, whose flags say it (:func:`job_carried`,
    :func:`job_not_planned`, :func:`job_end_cut`)."""
    out = [
        _opened_before(entry, occ.dropped, planning) if occ.dropped else None,
        _closes_after(entry, occ.cut, planning) if occ.cut else None,
    ]
    return [note for note in out if note is not None]


def window_notes(
    entry: Any, window_id: np.ndarray, index: pd.DatetimeIndex, windows: list[tuple[int, int]]
) -> list[str]:
    """What the windows ``(start, stop)`` (steps of ``index``) of a rolling run or the
    park backtest do with the occurrences (``window_id`` per step) they cut."""
    continued: dict[int, pd.Timestamp] = {}
    left: dict[int, pd.Timestamp] = {}
    n = window_id.size

    def opening(k: int) -> pd.Timestamp:
        return index[int(np.flatnonzero(window_id == k)[0])]

    for i, (start, stop) in enumerate(windows):
        k = int(window_id[start]) if start < n else -1
        if 0 < start < n and k >= 0 and window_id[start - 1] == k:
            continued.setdefault(k, opening(k))
        # left to a later window only when one follows (the last window's cut is the
        # horizon's end's, :func:`occurrence_notes`)
        later = i + 1 < len(windows) and windows[i + 1][0] <= stop
        k = int(window_id[stop - 1]) if later and 0 < stop < n else -1
        if k >= 0 and window_id[stop] == k:
            left.setdefault(k, opening(k))
    out = []
    if continued:
        out.append(
            f"deferrable load '{entry.name}': {len(continued)} window occurrence(s) under "
            "way at a decision are continued from the settled state (their steps on and "
            f"starts before the decision count): {_stamps(list(continued.values()))}"
        )
    if left:
        out.append(
            f"deferrable load '{entry.name}': {len(left)} window occurrence(s) close after "
            "a window's look-ahead: the window keeps the rest of the run possible and "
            f"leaves the steps after it to a later window: {_stamps(list(left.values()))}"
        )
    return out


def job_not_planned(opened: str) -> str:
    """The job's flag on the occurrence under way at ``now`` (opened at ``opened``) that
    no previous run's plan gives."""
    return (
        f"its window opened at {opened}, before now, and no previous run's plan gives "
        "its steps before now: it is not planned (its run may have happened)"
    )


def job_carried(opened: str, done_h: float, run_h: float, under_way_h: float) -> str:
    """The job's flag on the occurrence under way at ``now`` carried from the previous
    run's plan: ``done_h`` of its ``run_h`` before now, a run under way for
    ``under_way_h`` [h] (0: none)."""
    return f"its window opened at {opened}: {done_h:g} h of its {run_h:g} h run before now " + (
        "from the previous run's plan"
        + (f", a run under way for {under_way_h:g} h goes on" if under_way_h else "")
    )


def job_end_cut(opens: str, left_h: float) -> str:
    """The job's flag on the occurrence its window's end cuts, ``left_h`` [h] of it after
    the end."""
    return (
        f"its window opened at {opens} closes {left_h:g} h after the plan's window: what "
        "its run needs after it is left to the next run"
    )
