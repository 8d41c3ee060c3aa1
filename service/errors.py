"""Domain errors. No HTTP here: each API family maps these at its own edge."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose; `message` is safe to show a client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The request is malformed: a missing or badly typed argument."""


class NotFound(DomainError):
    """The object does not exist for this tenant (another tenant's object is reported the same way)."""


class Forbidden(DomainError):
    """The object is not the caller's to use."""


class Conflict(DomainError):
    """The request contradicts the current state (a duplicate name, a document still parsing)."""


class Unsupported(DomainError):
    """A valid request for something this server does not offer (a model, a chunk method)."""


class Unauthenticated(DomainError):
    """No API key, or one that matches no tenant."""


class UpstreamError(DomainError):
    """A provider (LLM, embedder) failed."""


class TooLarge(DomainError):
    """An upload beyond the configured size limit."""
