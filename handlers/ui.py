"""View helpers shared by several features' screens: pure functions, no handlers here."""

from __future__ import annotations

from common.text import MESSAGE_LIMIT


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut at line ends where possible (never inside an HTML tag of one line)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one huge paragraph: cut it, escaping is per line anyway
            cut = _safe_cut(line, limit)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def _safe_cut(line: str, limit: int) -> int:
    """A cut position not inside an HTML entity like &amp; or a tag."""
    cut = limit
    amp, lt = line.rfind("&", 0, cut), line.rfind("<", 0, cut)
    if amp > line.rfind(";", 0, cut):
        cut = amp
    if lt > line.rfind(">", 0, cut):
        cut = min(cut, lt)
    return cut or limit
