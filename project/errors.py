"""The one kind of domain error the API turns into a clean 4xx answer."""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The ``code`` of an error answer, which clients may branch on."""

    INVALID = "invalid"
    CONFLICT = "conflict"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    DATABASE_UNAVAILABLE = "database_unavailable"
    NOT_FOUND = "not_found"
    TOO_LARGE = "request_too_large"
    SERVER_ERROR = "server_error"
    ERROR = "error"


class ApplicationError(Exception):
    """A request that breaks a business rule: 400 unless a subclass says otherwise."""

    status_code = 400
    code = ErrorCode.INVALID

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class Conflict(ApplicationError):
    """The request is valid, but not in the resource's current state."""

    status_code = 409
    code = ErrorCode.CONFLICT
