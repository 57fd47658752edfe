"""Errors services raise for bad input; views turn them into form errors or 4xx JSON bodies."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the domain refuses; ``str(error)`` is a message fit for the person who asked."""


class ValidationError(ServiceError):
    """Bad input for one field (``field``) or for the whole request (``field=None``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """The object does not exist, or the caller may not see it (the two are told apart nowhere)."""
