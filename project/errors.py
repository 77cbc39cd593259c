"""The one kind of domain error the API turns into a clean 4xx answer."""

from typing import Any


class ApplicationError(Exception):
    """A request that breaks a business rule: 400 unless a subclass says otherwise."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class Conflict(ApplicationError):
    """The request is valid, but not in the resource's current state."""

    status_code = 409
    code = "conflict"
