"""Builds the mailbox's shared context from the config: boxes, the secret key, the guards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError
from common.secrets import decode_key, load_or_create_key
from mailboxes.memory import AnonymousSessions, AnonymousStore
from mailboxes.sealing import Sealer
from mailboxes.settings import (
    ANONYMOUS_WINDOW,
    RECEIPT_FAILURES,
    RECEIPT_WINDOW,
    Box,
    MailboxContext,
    MailboxGuards,
    MailboxSettings,
)
from members.roles import Role

if TYPE_CHECKING:
    from redis.asyncio import Redis


def mailbox_settings(config: Config) -> MailboxSettings:
    return MailboxSettings(
        boxes=tuple(
            Box(
                key=box.key,
                names={locale: name for locale, name in box.name.items()},
                roles=frozenset(Role(r) for r in box.roles),
                telegram_ids=frozenset(box.telegram_ids),
            )
            for box in config.mailbox.boxes
        ),
        reply_days=config.mailbox.reply_days,
        timezone=config.union.timezone,
        anonymous_per_day=config.mailbox.anonymous_per_day,
    )


def secret_key(config: Config) -> bytes:
    """[mailbox] secret_key, or the key file (created with a new random key if missing).

    Webhook mode needs the key in the config: several instances must share one key, and a key
    file created on each machine would differ (receipts and seals would work on one only)."""
    if config.mailbox.secret_key is not None:
        return decode_key(config.mailbox.secret_key.get_secret_value())
    if config.telegram.mode == "webhook":
        raise ConfigError(
            "[mailbox] secret_key: required in webhook mode, the same on every instance "
            "(e.g. `openssl rand -base64 32`)"
        )
    return load_or_create_key(Path(config.mailbox.key_file))


def create_mailbox_context(config: Config, redis: Redis | None = None) -> MailboxContext:
    """With Redis the limits count in Redis, shared by every instance (else they would
    multiply by the number of instances); without it, in this process's memory."""
    settings = mailbox_settings(config)
    key = secret_key(config)
    guards = MailboxGuards.create(settings.anonymous_per_day)
    if redis is not None:
        from mailboxes.redis_memory import RedisLimit

        guards = MailboxGuards(
            anonymous_letters=RedisLimit(
                redis, key, "letters", settings.anonymous_per_day, ANONYMOUS_WINDOW
            ),
            receipt_failures=RedisLimit(
                redis, key, "receipt-failures", RECEIPT_FAILURES, RECEIPT_WINDOW
            ),
        )
    return MailboxContext(settings=settings, sealer=Sealer(key), guards=guards)


def create_anonymous_sessions(config: Config, redis: Redis | None = None) -> AnonymousStore:
    """Anonymous drafts and receipt sessions: in Redis when several instances may share the
    work (the next message can reach another one), else in this process's memory only."""
    if redis is None:
        return AnonymousSessions()
    from mailboxes.redis_memory import RedisAnonymousSessions

    return RedisAnonymousSessions(redis, secret_key(config))
