"""bot.logs: the bot token never reaches the log, in messages or in tracebacks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from bot.config import parse_config
from bot.logs import REDACTED, RedactingFormatter, configure_logging

TOKEN = "123456789:AAHsecretPART-of_the_token"
SECRET = TOKEN.partition(":")[2]


def formatter() -> RedactingFormatter:
    return RedactingFormatter("%(levelname)s %(message)s", (TOKEN, SECRET))


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("aiogram", logging.ERROR, __file__, 1, message, args, exc_info)


def test_full_token_in_message_is_redacted() -> None:
    text = formatter().format(record("POST https://api.telegram.org/bot%s/getMe", TOKEN))
    assert TOKEN not in text
    assert SECRET not in text
    assert f"/bot{REDACTED}/getMe" in text


def test_secret_part_alone_is_redacted() -> None:
    text = formatter().format(record("secret=%s", SECRET))
    assert SECRET not in text
    assert f"secret={REDACTED}" in text


def test_token_in_exception_traceback_is_redacted() -> None:
    try:
        raise RuntimeError(f"Cannot connect to https://api.telegram.org/bot{TOKEN}/getUpdates")
    except RuntimeError:
        text = formatter().format(record("polling failed", exc_info=sys.exc_info()))
    assert "Traceback" in text
    assert "RuntimeError" in text
    assert TOKEN not in text
    assert SECRET not in text


def test_secret_part_in_exception_traceback_is_redacted() -> None:
    try:
        raise ValueError(SECRET)
    except ValueError:
        text = formatter().format(record("oops", exc_info=sys.exc_info()))
    assert SECRET not in text
    assert f"ValueError: {REDACTED}" in text


def test_text_without_secrets_is_unchanged() -> None:
    assert formatter().format(record("started polling")) == "ERROR started polling"


def test_empty_secrets_are_ignored() -> None:
    plain = RedactingFormatter("%(message)s", ("", ""))
    assert plain.format(record("started polling")) == "started polling"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configured_logging_redacts_both_forms(root_logger, capsys) -> None:
    configure_logging(parse_config({"telegram": {"token": TOKEN}, "logging": {"level": "INFO"}}))
    logging.getLogger("aiogram.event").info("url /bot%s/ and %s", TOKEN, SECRET)
    logging.getLogger("aiogram.event").debug("below the configured level")
    err = capsys.readouterr().err
    assert f"url /bot{REDACTED}/ and {REDACTED}" in err
    assert SECRET not in err
    assert "below the configured level" not in err


def test_configured_logging_without_token_leaves_messages_alone(root_logger, capsys) -> None:
    configure_logging(parse_config({}))
    logging.getLogger("unionvoice").warning("no token here")
    err = capsys.readouterr().err
    assert err.endswith("WARNING unionvoice: no token here\n")
    assert REDACTED not in err


class UniqueViolation(Exception):
    """What a PostgreSQL driver raises: its message quotes the row's values."""

    __module__ = "asyncpg.exceptions"
    sqlstate = "23505"


def test_database_error_messages_are_withheld_frames_kept(root_logger, capsys) -> None:
    """Even with parameters shown (an engine without hide_parameters) and a driver message that
    quotes values, the log has the types, the error code, the statement and the frames only."""
    from sqlalchemy.exc import IntegrityError

    driver = UniqueViolation("duplicate key: Key (telegram_id)=(8101) already exists")
    error = IntegrityError(
        "INSERT INTO members (telegram_id, name) VALUES ($1, $2)", (8101, "Mei Lin"), driver
    )
    configure_logging(parse_config({"logging": {"level": "DEBUG"}}))

    def store() -> None:
        try:
            raise driver
        except UniqueViolation:
            raise error from driver

    try:
        store()
    except IntegrityError:
        logging.getLogger("handlers.errors").exception("handler failed on update 1 (message)")
    # aiogram's own report of an unhandled error passes the exception as an argument.
    logging.getLogger("aiogram.event").error("Cause exception\n%s: %s", "IntegrityError", error)
    err = capsys.readouterr().err
    assert "8101" not in err and "Mei Lin" not in err and "parameters" not in err
    assert "Traceback (most recent call last)" in err and "in store" in err
    assert "sqlalchemy.exc.IntegrityError: (message withheld" in err
    assert "UniqueViolation 23505" in err
    assert "[SQL: INSERT INTO members (telegram_id, name) VALUES ($1, $2)]" in err
    assert "direct cause" in err


def test_other_exceptions_keep_their_message(root_logger, capsys) -> None:
    configure_logging(parse_config({"logging": {"level": "INFO"}}))
    try:
        raise KeyError("box")
    except KeyError:
        logging.getLogger("unionvoice").exception("failed")
    assert "KeyError: 'box'" in capsys.readouterr().err
