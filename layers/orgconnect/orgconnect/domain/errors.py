"""Domain exceptions. ``orgconnect.web.errors`` maps each one to exactly one HTTP answer."""

from __future__ import annotations

from msgspec import Struct


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class AuthenticationFailed(DomainError):
    """The caller's credentials were missing or not recognized (which part is never said).

    ``credentials_presented`` tells a missing credential from a refused one: RFC 6750 section 3.1
    answers the first with a bare challenge and the second with ``error="invalid_token"``.
    """

    def __init__(self, *, credentials_presented: bool = True) -> None:
        super().__init__("credentials missing" if not credentials_presented else "credentials refused")
        self.credentials_presented = credentials_presented


class FieldError(Struct, frozen=True):
    """One problem with one request field, in Cronofy's ``errors`` format."""

    field: str
    key: str
    description: str


class InvalidRequest(DomainError):
    """The request was understood but one or more parameters are invalid (HTTP 422)."""

    def __init__(self, *errors: FieldError) -> None:
        super().__init__("; ".join(f"{e.field}: {e.description}" for e in errors))
        self.errors: tuple[FieldError, ...] = errors

    @classmethod
    def single(cls, field: str, key: str, description: str) -> InvalidRequest:
        return cls(FieldError(field, key, description))


class MalformedRequest(DomainError):
    """The request body could not be read at all (bad JSON, wrong content type)."""

    def __init__(self, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


class Conflict(DomainError):
    """A write lost a race or would overwrite something that must stay unique."""


class TemporarilyUnavailable(DomainError):
    """A dependency (DynamoDB, Secrets Manager) is throttling or unavailable; the caller may retry."""
