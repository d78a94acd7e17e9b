"""Python warnings inside the job become flags and log lines, never raw stderr
(:mod:`vpp.jobs.notes`)."""

from __future__ import annotations

import warnings

import pytest

from vpp.jobs.notes import MESSAGE_CHARS, capture_warnings


def raise_twice() -> None:
    for _ in range(2):  # the same warning from the same line: recorded once, counted
        warnings.warn("sessions clipped", UserWarning, stacklevel=1)


def test_every_warning_is_a_flag_and_a_log_line_not_stderr(capsys):
    flags = ["earlier flag"]
    log: list[str] = []
    with capture_warnings(flags, log.append):
        raise_twice()
        warnings.warn("old API", DeprecationWarning, stacklevel=1)  # ignored by default
        warnings.warn("x" * (MESSAGE_CHARS + 50), RuntimeWarning, stacklevel=1)
    assert capsys.readouterr().err == ""
    assert flags[0] == "earlier flag" and len(flags) == 4
    first, deprecated, long = flags[1:]
    assert first.startswith("Python warning UserWarning from test_job_notes (test_job_notes.py:")
    assert first.endswith(": sessions clipped (raised 2 times)")
    assert "DeprecationWarning" in deprecated and deprecated.endswith(": old API")
    assert long.endswith("...") and len(long.split(": ", 1)[1]) == MESSAGE_CHARS
    assert len(log) == 3 and log[0].startswith("warning: UserWarning from test_job_notes")
    assert log[2].endswith("x" * (MESSAGE_CHARS + 50))  # the log line has it whole


def test_a_second_run_in_the_same_process_still_records_it():
    """No state between runs: the interpreter's 'once per location' does not hide it."""
    for _ in range(2):
        flags: list[str] = []
        with capture_warnings(flags, lambda _text: None):
            raise_twice()
        assert len(flags) == 1 and "sessions clipped" in flags[0]


def test_filters_and_showwarning_are_restored_after_an_exception():
    before = warnings.showwarning
    flags: list[str] = []
    with pytest.raises(ValueError), capture_warnings(flags, lambda _text: None):
        warnings.warn("before the failure", UserWarning, stacklevel=1)
        raise ValueError("boom")
    assert warnings.showwarning is before
    assert flags and "before the failure" in flags[0]
    with pytest.warns(UserWarning, match="outside"):  # outside it, warnings are as usual
        warnings.warn("outside", UserWarning, stacklevel=1)
