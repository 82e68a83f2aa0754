"""The one exception type Bot API methods raise to answer a request with an error.

Telegram answers every failure with the same envelope
(``{"ok": false, "error_code": N, "description": "..."}``), so method code raises
:class:`ApiError` and the HTTP layer turns it into that envelope in one place.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API failure with Telegram's status code and exact description text."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 whose description carries Telegram's ``Bad Request:`` prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """Build a 403 whose description carries Telegram's ``Forbidden:`` prefix."""
    return ApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """Build the 429 Telegram sends when a flood limit is hit."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


class ControlError(Exception):
    """A failed control-API request (bad input, unknown user, chat or message).

    Kept apart from :class:`ApiError` because the control API is the sandbox's own
    interface, with its own plain ``{"error": "..."}`` shape, not Telegram's.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
