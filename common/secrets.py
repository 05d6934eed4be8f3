"""The installation's secret key: read from the config or a key file, created once if missing."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


class SecretKeyError(ValueError):
    pass


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError("must be base64 (e.g. `openssl rand -base64 32`)") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(f"must decode to {KEY_BYTES} bytes (e.g. `openssl rand -base64 32`)")
    return key


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; a new random one written there (mode 0600) when the file is missing."""
    try:
        return decode_key(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return decode_key(path.read_text(encoding="ascii"))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode("ascii") + "\n")
    return key
