"""Group commit: one writer thread stores the batches of many requests per transaction.

A commit is durable only once the database has flushed it to disk (SQLite
``synchronous=FULL``, PostgreSQL's default), and that flush costs milliseconds whoever
asks. Requests arriving together therefore queue their checked batches here; the writer
thread takes every queued batch (at most :data:`MAX_GROUP`), adds them one after the
other to one transaction (:func:`vpp.platform.readings.apply_readings`: each sees the
ones before it, so the answers are those of storing them one by one), commits once, and
only then answers each request. A batch with a conflict adds nothing and gets its
:class:`~vpp.platform.refusals.ReadingConflict`; the others of its group are committed.
If the group's commit fails on a unique key (another server process wrote one of its
keys), each batch is stored again on its own.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.readings import CheckedReading, StoreResult, apply_readings, store_checked
from vpp.platform.refusals import ReadingConflict

__all__ = ["MAX_GROUP", "GroupWriter"]

#: Most batches committed in one transaction [-].
MAX_GROUP = 256


@dataclass
class _Job:
    site_id: int
    readings: list[CheckedReading]
    done: Future = field(default_factory=Future)


class GroupWriter:
    """The platform's one writer of readings (module docstring)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.commits = 0  # transactions committed (a group each) [-]
        self.thread = threading.Thread(target=self._loop, name="vpp-readings-writer", daemon=True)
        self.thread.start()

    def store(self, site_id: int, readings: list[CheckedReading]) -> StoreResult:
        """Store one site's checked batch; returns once it is committed.

        Raises
        ------
        ReadingConflict
            A key is stored with another value (nothing of the batch is stored).
        """
        if not self.thread.is_alive():
            return store_checked(self.sessions, site_id, readings)  # closed: store alone
        job = _Job(site_id, readings)
        self.jobs.put(job)
        return job.done.result()

    def close(self) -> None:
        """Finish the queued batches and stop the thread."""
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            group = [job]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    more = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[_Job]) -> None:
        outcomes: list[StoreResult | ReadingConflict] = []
        try:
            with self.sessions() as session, session.begin():
                for job in group:
                    try:
                        outcomes.append(apply_readings(session, job.site_id, job.readings))
                    except ReadingConflict as exc:
                        outcomes.append(exc)
            self.commits += 1
        except IntegrityError:
            for job in group:  # another process wrote one of the keys: each on its own
                try:
                    job.done.set_result(store_checked(self.sessions, job.site_id, job.readings))
                except Exception as exc:
                    job.done.set_exception(exc)
            return
        except Exception as exc:  # nothing of the group was committed: every request fails
            for job in group:
                job.done.set_exception(exc)
            return
        for job, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, ReadingConflict):
                job.done.set_exception(outcome)
            else:
                job.done.set_result(outcome)
