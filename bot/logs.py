"""Logging that never prints the bot token, whatever library formats the message, and never
the values a database error may quote."""

from __future__ import annotations

import logging
import traceback

from bot.config import Config

REDACTED = "<redacted>"
WITHHELD = "message withheld: database errors may quote stored values"
# Exceptions from these packages may carry bound values in their message: SQLAlchemy's
# `[parameters: …]`, PostgreSQL's `DETAIL: Key (telegram_id)=(…)`, asyncpg's "invalid input
# for query argument $1: '…'". They are logged by type, error code and frames only.
DATABASE_PACKAGES = frozenset({"sqlalchemy", "sqlite3", "aiosqlite", "asyncpg", "psycopg"})
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


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


def _from_database(exception: BaseException) -> bool:
    return type(exception).__module__.partition(".")[0] in DATABASE_PACKAGES


def describe_database_error(exception: BaseException) -> str:
    """Type, the driver's error type and code, and the statement (placeholders only): what an
    operator needs, without the message that may quote a letter or a Telegram id."""
    kind = type(exception)
    parts = [f"{kind.__module__}.{kind.__qualname__}: ({WITHHELD})"]
    original = getattr(exception, "orig", None) or exception
    if original is not exception:
        parts.append(type(original).__name__)
    code = getattr(original, "sqlite_errorname", None) or getattr(original, "sqlstate", None)
    if code:
        parts.append(str(code))
    statement = getattr(exception, "statement", None)
    if isinstance(statement, str):  # with hide_parameters=True the values are never in it
        parts.append(f"[SQL: {statement}]")
    return " ".join(parts)


def _chain(exception: BaseException) -> list[tuple[BaseException, str]]:
    """The exception and its causes, newest first, each with the line that links it to the
    newer one (as the standard traceback prints them)."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exception
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    return chain


def format_exception_safely(exception: BaseException) -> str:
    """A traceback with every frame, where database errors show no message."""
    parts: list[str] = []
    for current, link in reversed(_chain(exception)):
        if current.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(current.__traceback__))
        if _from_database(current):
            parts.append(describe_database_error(current) + "\n")
        else:
            parts.extend(traceback.format_exception_only(type(current), current))
        parts.append(link)
    return "".join(parts).rstrip("\n")


class DatabaseValuesFilter(logging.Filter):
    """Rewrites a record before any handler formats it: database errors, as the record's
    exception or as an argument (aiogram logs `"%s: %s", name, exception`), lose their message.
    The record is changed in place, so every handler after this one sees the safe form."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and record.exc_text is None:
            exception = record.exc_info[1]
            if any(_from_database(e) for e, _ in _chain(exception)):
                record.exc_text = format_exception_safely(exception)
        if isinstance(record.msg, BaseException) and _from_database(record.msg):
            record.msg = describe_database_error(record.msg)
        if isinstance(record.args, tuple) and any(
            isinstance(a, BaseException) and _from_database(a) for a in record.args
        ):
            record.args = tuple(
                describe_database_error(a)
                if isinstance(a, BaseException) and _from_database(a)
                else a
                for a in record.args
            )
        return True


QUIET_LIBRARIES = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool")


def configure_logging(config: Config) -> None:
    token = config.telegram.token.get_secret_value() if config.telegram.token else ""
    secret = config.telegram.webhook_secret
    handler = logging.StreamHandler()
    handler.addFilter(DatabaseValuesFilter())
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
