"""Python warnings inside the job become flags and log lines, never raw stderr
(:mod:`vpp.jobs.notes`)."""

from __future__ import annotations

import gc
import threading
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


def test_a_warning_of_another_thread_is_handled_as_usual_not_flagged():
    """A server's or a client library's thread is not the run: its warnings are not flags."""
    flags: list[str] = []
    log: list[str] = []
    with pytest.warns(UserWarning, match="from a server thread"):
        with capture_warnings(flags, log.append):
            other = threading.Thread(target=warnings.warn, args=("from a server thread",))
            other.start()
            other.join()
    assert flags == [] and log == []


class Leftover:
    """Garbage an earlier caller left: a cycle holding an open file."""

    def __init__(self) -> None:
        self.itself = self
        self.file = open(__file__, encoding="utf-8")  # left open on purpose


def test_a_finalizer_run_by_the_collector_is_logged_not_flagged():
    """When the collector runs a leftover's finalizer is the process's history, not the
    run's inputs: its ResourceWarning goes to the log, after the run, not to the flags."""
    flags: list[str] = []
    log: list[str] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        Leftover()
        with capture_warnings(flags, log.append):
            gc.collect()
            assert log == []  # not written from inside the collection
            warnings.warn("the run's own", UserWarning, stacklevel=1)
    finally:
        if enabled:
            gc.enable()
    assert len(flags) == 1 and flags[0].endswith(": the run's own")
    assert len(log) == 2 and "the run's own" in log[0]
    assert log[1].startswith("warning at a garbage collection (not a flag, not the run's): ")
    assert "ResourceWarning: unclosed file" in log[1]
