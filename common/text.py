"""Text limits and shortening: one definition of Telegram's sizes for every package."""

from __future__ import annotations

MESSAGE_LIMIT = 4096  # characters in one Telegram message (after entity parsing)
CAPTION_LIMIT = 1024  # characters in a media caption
CALLBACK_DATA_LIMIT = 64  # bytes of callback data on one button
ELLIPSIS = "…"


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text`, cut to at most `limit` characters with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def first_line(text: str, limit: int = 40) -> str:
    """The first line of `text`, shortened: a title for lists and buttons."""
    lines = text.strip().splitlines()
    return shorten(lines[0], limit) if lines else ELLIPSIS


def preview(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace and line breaks become one space), shortened."""
    return shorten(" ".join(text.split()), limit)
