"""Logging that never prints the bot token, whatever library formats the message."""

from __future__ import annotations

import logging

from bot.config import Config

REDACTED = "<redacted>"


class RedactingFormatter(logging.Formatter):
    """Redacts secrets in the final line, tracebacks included (URLs carry the token)."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


QUIET_LIBRARIES = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool")


def configure_logging(config: Config) -> None:
    token = config.telegram.token.get_secret_value() if config.telegram.token else ""
    secret = config.telegram.webhook_secret
    handler = logging.StreamHandler()
    # The secret half alone also appears in URLs: redact both forms.
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
            (token, token.partition(":")[2], secret.get_secret_value() if secret else ""),
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.logging.level)
    # Their debug logs print SQL parameters: Telegram ids, texts. Only `[database] echo` (a
    # deliberate debugging switch) lets SQL through.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
