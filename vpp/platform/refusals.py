"""What the platform refuses, as exceptions the API maps to statuses.

Each carries plain-JSON details: the field, the row, the value received, what is
allowed. The API answers :class:`TelemetryRefused` with 422, :class:`ReadingConflict`
with 409, :class:`UnknownSite` with 404 and :class:`BadRequest` with 400.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BadRequest", "PlatformRefusal", "ReadingConflict", "TelemetryRefused", "UnknownSite"]


class PlatformRefusal(Exception):
    """A request the platform refuses; ``status`` is its HTTP status."""

    status = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        """The JSON answer: ``detail`` (the message) and ``problems`` (the details)."""
        return {"detail": self.message, "problems": self.details}


class TelemetryRefused(PlatformRefusal):
    """Readings that fail a check: ``details`` holds field, row, value, message, allowed."""

    status = 422

    @property
    def problems(self) -> list[dict[str, Any]]:
        return self.details


class ReadingConflict(PlatformRefusal):
    """Readings whose key is stored with another value: ``details`` holds channel,
    timestamp, stored_value and sent_value; nothing of the batch was stored."""

    status = 409

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return self.details


class UnknownSite(PlatformRefusal):
    """No such park or site."""

    status = 404


class BadRequest(PlatformRefusal):
    """A request that cannot be served as given (a park file that does not load, ...)."""

    status = 400
