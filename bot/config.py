"""Configuration: a TOML file validated by pydantic, with the token overridable from BOT_TOKEN.

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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

DEFAULT_CONFIG_PATH = Path("config.toml")
SUPPORTED_LOCALES = ("zh", "en")
Locale = Literal["zh", "en"]
ASYNC_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})
# What Telegram accepts as a webhook secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """The configuration is missing, unreadable or invalid. The message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


def _check_api_base(value: str | None) -> str | None:
    if value is not None and (
        not value.startswith(("http://", "https://")) or not urlsplit(value).netloc
    ):
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/") if value else value


def _check_roles(value: list[str]) -> list[str]:
    from members.roles import Role

    unknown = sorted(set(value) - {role.value for role in Role})
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}")
    return value


def _localized(value: object) -> object:
    return {"zh": value, "en": value} if isinstance(value, str) else value


# A name shown to people: one string, or a table per locale ({ zh = "…", en = "…" }).
LocalizedName = Annotated[dict[Locale, str], BeforeValidator(_localized)]


class TelegramConfig(_Section):
    token: SecretStr | None = None
    api_base: Annotated[
        str | None, BeforeValidator(_empty_is_none), AfterValidator(_check_api_base)
    ] = None
    bot_username: Annotated[str | None, BeforeValidator(_empty_is_none)] = None
    mode: Literal["polling", "webhook"] = "polling"
    polling_timeout: int = Field(default=30, ge=1, le=50)
    # Webhook mode: the public https URL Telegram posts updates to; its path is also the path
    # this instance serves (behind a reverse proxy that terminates TLS).
    webhook_url: Annotated[
        str | None, BeforeValidator(_empty_is_none), AfterValidator(_check_api_base)
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


class DatabaseConfig(_Section):
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


class FsmConfig(_Section):
    # Conversation state in Redis (aiogram's RedisStorage) instead of the database. With
    # several instances Redis also orders each user's updates, elects the scheduler leader
    # and holds the shared send budget.
    redis_url: Annotated[str | None, BeforeValidator(_empty_is_none)] = None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://host:port/db URL")
        return value


class UnionConfig(_Section):
    name: str = "工会"
    timezone: str = "Asia/Shanghai"
    default_locale: Locale = "zh"
    admins: list[int] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder: OSError
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RegistrationConfig(_Section):
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    # A plain member's roster row (member/representative) is linked when the employee id and
    # name match. false: invite links or an officer's approval only. Rows with any other role
    # never link by name (docs/privacy.md).
    match_by_name: bool = True


class SurveysConfig(_Section):
    # Department breakdowns and stored departments of anonymous responses need at least this
    # many people, so that a small group cannot be told apart.
    small_group: int = Field(default=5, ge=2, le=100)


class ProposalsConfig(_Section):
    categories: list[str] = Field(
        default_factory=lambda: ["教学科研", "民主管理", "福利待遇", "后勤服务", "其他"],
        min_length=1,
    )
    # Co-signers a proposal needs before it goes to review (suggestions need none).
    min_cosigners: int = Field(default=2, ge=0, le=50)
    # Roles that may file proposals; every member may file a suggestion.
    proposer_roles: list[str] = Field(default_factory=lambda: ["representative"])
    answer_days: int = Field(default=30, ge=1, le=365)
    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    escalate_after_days: int = Field(default=7, ge=1, le=365)

    @field_validator("proposer_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        return _check_roles(value)


class MailboxBox(_Section):
    """One mailbox (院长信箱, 书记信箱 …): who receives its letters."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
    name: LocalizedName
    # Members holding any of these roles receive the box's letters …
    roles: list[str] = Field(default_factory=list)
    # … and so do these Telegram ids (registered members).
    telegram_ids: list[int] = Field(default_factory=list)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        return _check_roles(value)


def _default_boxes() -> list[MailboxBox]:
    return [
        MailboxBox(
            key="principal",
            name={"zh": "院长信箱", "en": "Principal's mailbox"},
            roles=["principal"],
        ),
        MailboxBox(
            key="secretary",
            name={"zh": "书记信箱", "en": "Party secretary's mailbox"},
            roles=["secretary"],
        ),
    ]


class MailboxConfig(_Section):
    boxes: list[MailboxBox] = Field(default_factory=_default_boxes, min_length=1)
    # Letters without a first reply after this many days remind the box's recipients.
    reply_days: int = Field(default=5, ge=1, le=90)
    # 32 random bytes, base64. Seals the link to confidential senders and peppers receipt
    # hashes. Empty: read from (or created in) key_file. Losing it makes confidential senders
    # unreachable and receipt codes useless.
    secret_key: SecretStr | None = None
    key_file: str = "unionvoice-mailbox.key"
    # Anonymous letters one Telegram account may send per day (counted in memory only).
    anonymous_per_day: int = Field(default=3, ge=1, le=100)

    @field_validator("boxes")
    @classmethod
    def _unique_keys(cls, value: list[MailboxBox]) -> list[MailboxBox]:
        keys = [box.key for box in value]
        if len(set(keys)) != len(keys):
            raise ValueError("box keys must be unique")
        if len(keys) > 8:
            raise ValueError("at most 8 boxes")
        return value

    @field_validator("secret_key")
    @classmethod
    def _key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from common.secrets import decode_key

        decode_key(value.get_secret_value())  # never echo the value
        return value

    def box(self, key: str) -> MailboxBox | None:
        return next((box for box in self.boxes if box.key == key), None)


class DigestConfig(_Section):
    enabled: bool = True
    # When the weekly digest goes out: the weekday and time (HH:MM) of the week after the one
    # it covers, in `timezone` (empty: the union's time zone).
    weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    time: str = "08:30"
    timezone: str = ""
    # Roles that get the whole union's digest (the principal and secretary get their mailbox
    # and proposals; handlers their department's due items).
    roles: list[str] = Field(default_factory=lambda: ["officer", "chair"])
    themes: int = Field(default=8, ge=1, le=30)
    quotes: int = Field(default=2, ge=0, le=10)
    theme_text_limit: int = Field(default=5000, ge=100, le=1_000_000)
    # Improvement actions: reminders before the due date; officers at once when overdue, the
    # chair after this many days.
    action_reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    action_escalate_after_days: int = Field(default=7, ge=1, le=365)

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("must be HH:MM, e.g. 08:30")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return UnionConfig._known_zone(value) if value else value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return ProposalsConfig._known_roles(value)


class OutboxConfig(_Section):
    # Telegram allows about 30/s; network jitter bunches requests, so leave headroom.
    rate_per_second: float = Field(default=25.0, gt=0, le=29)
    max_in_flight: int = Field(default=8, ge=1, le=100)
    max_attempts: int = Field(default=6, ge=1, le=20)
    progress_interval: float = Field(default=3.0, ge=1.0, le=60.0)
    # Several instances: a message claimed by an instance that stopped renewing its claim for
    # this long (it died) is sent by another.
    claim_lease: float = Field(default=60.0, ge=1.0, le=3600.0)


class RetentionConfig(_Section):
    """How long data is kept; a daily job purges what is due (counts logged, never content)."""

    # Handled mailbox letters, with their conversation, files and audit log.
    handled_letters_days: int = Field(default=730, ge=1)
    # Messages the bot has sent (or given up on).
    outbox_days: int = Field(default=30, ge=1)
    # Ids of processed Telegram updates (Telegram redelivers for 24 hours at most).
    processed_updates_days: int = Field(default=7, ge=2)
    # Raw free-text answers of closed surveys (choices and numbers stay for comparisons).
    survey_text_days: int = Field(default=1095, ge=1)
    # Dialogues abandoned half-way.
    conversations_days: int = Field(default=30, ge=1)
    # Local hour of the daily purge.
    hour: int = Field(default=3, ge=0, le=23)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(_Section):
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
