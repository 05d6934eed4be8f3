"""A survey definition dict (what `tomllib` reads) written back as TOML, one key per line.

The definition parser reports problems by line; the map returned with the text says which key
of which question each line holds, so a workbook import can point at the cell instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# TOML basic strings escape these; everything else (Chinese included) is written as is.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
_ESCAPES |= {"\f": "\\f", "\r": "\\r"}

# ("top", key) or ("question", index, key-or-None) for each line number (1-based).
KeyPath = tuple[Any, ...]


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def write_definition(raw: Mapping[str, Any]) -> tuple[str, dict[int, KeyPath]]:
    """TOML text and, per line, the key it holds. Top-level keys come first, then one
    [[questions]] table per question; options are one per line."""
    lines: list[str] = []
    where: dict[int, KeyPath] = {}

    def add(line: str, path: KeyPath | None) -> None:
        lines.append(line)
        if path is not None:
            where[len(lines)] = path

    for key, value in raw.items():
        if key != "questions":
            add(f"{_key(key)} = {toml_value(value)}", ("top", key))
    questions = raw.get("questions")
    if isinstance(questions, list):
        for index, question in enumerate(questions):
            add("", None)
            add("[[questions]]", ("question", index, None))
            for key, value in question.items():
                if key == "options" and isinstance(value, list) and value:
                    add("options = [", ("question", index, key))
                    for item in value:
                        add(f"  {toml_value(item)},", ("question", index, key))
                    add("]", ("question", index, key))
                else:
                    add(f"{_key(key)} = {toml_value(value)}", ("question", index, key))
    elif questions is not None:
        add(f"questions = {toml_value(questions)}", ("top", "questions"))
    return "\n".join(lines) + "\n", where
