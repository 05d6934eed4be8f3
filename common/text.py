"""Text limits and shortening: one definition of Telegram's sizes for every package."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """One HTML text as messages under `limit`: cut at line ends where possible."""
    return pack_messages([text], limit) or [text]


def pack_messages(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit. A block too long for one
    message is split between lines; a line too long for one is split too, never inside an
    entity or a tag, and nothing is dropped but that line's tags."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
            current = ""
        for line in block.split("\n"):
            pieces = _split_line(line, limit) if len(line) > limit else [line]
            for piece in pieces:
                candidate = f"{current}\n{piece}" if current else piece
                if len(candidate) <= limit:
                    current = candidate
                else:
                    parts.append(current)
                    current = piece
    if current:
        parts.append(current)
    return parts


_TAG = re.compile(r"<[^>]*>")  # escaped text has no bare "<", so this finds tags only


def _split_line(line: str, limit: int) -> list[str]:
    """An over-long line in pieces of at most `limit`: its tags are dropped (one tag must not
    open in one message and close in the next) and no cut falls inside an entity like &amp;."""
    rest = _TAG.sub("", line)
    pieces: list[str] = []
    while len(rest) > limit:
        cut = limit
        amp = rest.rfind("&", 0, cut)
        if amp > rest.rfind(";", 0, cut):
            cut = amp or limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces
