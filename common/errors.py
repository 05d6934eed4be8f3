"""Domain errors carry a message id that the bot translates for the user who caused them."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return message


class DomainError(Exception):
    """A rule said no. `message_id` is an English gettext id with {placeholders}."""

    def __init__(self, message_id: str, *, translate: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params
        self.translate = translate  # params whose values are message ids themselves


class PermissionDenied(DomainError):
    def __init__(self) -> None:
        super().__init__(N_("You are not allowed to do this."))


class WriteConflict(Exception):
    """A guarded buffered write changed no row at commit: nothing of the unit was stored."""
