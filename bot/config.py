"""Configuration: a TOML file validated by pydantic, with the token overridable from BOT_TOKEN.

`Config` composes the sections: the bot's own (telegram, database, fsm, union, logging) and
each feature's, defined next to the feature (proposals/settings.py, mailboxes/settings.py …).

Imports neither aiogram nor SQLAlchemy, so CLI commands that only read the config stay fast.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from common.settings import Locale, Section, empty_is_none, known_zone
from digest.settings import DigestConfig
from mailboxes.settings import MailboxConfig
from members.settings import RegistrationConfig
from outbox.settings import OutboxConfig
from privacy.settings import RetentionConfig
from proposals.settings import ProposalsConfig
from surveys.settings import SurveysConfig

DEFAULT_CONFIG_PATH = Path("config.toml")
ASYNC_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})
# What Telegram accepts as a webhook secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """The configuration is missing, unreadable or invalid. The message names the key."""


def _check_api_base(value: str | None) -> str | None:
    if value is not None and (
        not value.startswith(("http://", "https://")) or not urlsplit(value).netloc
    ):
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/") if value else value


class TelegramConfig(Section):
    token: SecretStr | None = None
    api_base: Annotated[
        str | None, BeforeValidator(empty_is_none), AfterValidator(_check_api_base)
    ] = None
    bot_username: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    mode: Literal["polling", "webhook"] = "polling"
    polling_timeout: int = Field(default=30, ge=1, le=50)
    # Webhook mode: the public https URL Telegram posts updates to; its path is also the path
    # this instance serves (behind a reverse proxy that terminates TLS).
    webhook_url: Annotated[
        str | None, BeforeValidator(empty_is_none), AfterValidator(_check_api_base)
    ] = None
    # Required in webhook mode; WEBHOOK_SECRET in the environment overrides it.
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    webhook_max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not secret:
            # Never echo the value: it is a secret.
            raise ValueError("does not look like a bot token (expected '<digits>:<secret>')")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramConfig:
        if self.mode == "webhook":
            missing = [
                key for key in ("webhook_url", "webhook_secret") if getattr(self, key) is None
            ]
            if missing:
                raise ValueError(f'mode = "webhook" needs {" and ".join(missing)}')
        return self

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/"


class DatabaseConfig(Section):
    url: str = "sqlite+aiosqlite:///unionvoice.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a SQLAlchemy URL such as sqlite+aiosqlite:///unionvoice.db")
        if value.split("://", 1)[0] not in ASYNC_DRIVERS:
            raise ValueError("needs an async driver: sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class FsmConfig(Section):
    # Conversation state in Redis (aiogram's RedisStorage) instead of the database. With
    # several instances Redis also orders each user's updates, elects the scheduler leader
    # and holds the shared send budget.
    redis_url: Annotated[str | None, BeforeValidator(empty_is_none)] = None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://host:port/db URL")
        return value


class UnionConfig(Section):
    name: str = "工会"
    timezone: str = "Asia/Shanghai"
    default_locale: Locale = "zh"
    admins: list[int] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(Section):
    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    fsm: FsmConfig = FsmConfig()
    union: UnionConfig = UnionConfig()
    registration: RegistrationConfig = RegistrationConfig()
    surveys: SurveysConfig = SurveysConfig()
    proposals: ProposalsConfig = ProposalsConfig()
    mailbox: MailboxConfig = MailboxConfig()
    digest: DigestConfig = DigestConfig()
    outbox: OutboxConfig = OutboxConfig()
    retention: RetentionConfig = RetentionConfig()
    logging: LoggingConfig = LoggingConfig()

    def require_token(self) -> str:
        if self.telegram.token is None:
            raise ConfigError(
                "[telegram] token: missing. Set it in the config file or in the environment "
                "variable BOT_TOKEN (get one from @BotFather)."
            )
        return self.telegram.token.get_secret_value()


def _describe(error: ErrorDetails) -> str:
    location = [str(part) for part in error["loc"]]
    if len(location) >= 2:
        where = f"[{location[0]}] {'.'.join(location[1:])}"
    else:
        where = f"[{location[0]}]" if location else "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown key (see config.example.toml for the keys that exist)"
    return f"{where}: {message}"


def parse_config(raw: Mapping[str, object], source: str = "config") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        # include_input=False: the offending value may be a secret.
        problems = "\n".join(f"  {_describe(err)}" for err in exc.errors(include_input=False))
        raise ConfigError(f"{source} is invalid:\n{problems}") from None


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config; BOT_TOKEN in the environment overrides [telegram] token.

    Without an explicit path a missing config.toml means "all defaults"; an explicit path
    must exist.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    config_path = path or DEFAULT_CONFIG_PATH
    if config_path.exists():
        try:
            # utf-8-sig: Windows editors may save a BOM.
            raw = tomllib.loads(config_path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{config_path}: cannot read ({exc.strerror})") from None
    elif path is not None:
        raise ConfigError(f"{config_path}: no such file (copy config.example.toml to start)")
    telegram = raw.get("telegram", {})
    if isinstance(telegram, dict):
        overrides = {
            key: environ[name]
            for key, name in (("token", "BOT_TOKEN"), ("webhook_secret", "WEBHOOK_SECRET"))
            if environ.get(name)
        }
        raw["telegram"] = {**telegram, **overrides}
    return parse_config(raw, source=str(config_path))
