"""Mailbox configuration: the [mailbox] config section with its boxes, the settings the
service sees, and what all updates share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, cast

from pydantic import BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from common.settings import Locale, Section
from members.roles import Role, known_role_names

if TYPE_CHECKING:  # at run time only where used: reading the config stays light (CLI)
    from mailboxes.memory import AnonymousLimit
    from mailboxes.sealing import Sealer


def _localized(value: object) -> object:
    return {"zh": value, "en": value} if isinstance(value, str) else value


def _role_names(value: object) -> object:
    # Checked by name first, so a typo reads "unknown role(s) [...]" as before.
    return known_role_names(list(value)) if isinstance(value, list | tuple) else value


class Box(Section):
    """One mailbox (院长信箱, 书记信箱 …) and who receives its letters: read from a
    [[mailbox.boxes]] table, used as is by the mailbox, membership and digest services."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
    # The config key is `name`: one string, or a table per locale ({ zh = "…", en = "…" }).
    names: Annotated[dict[Locale, str], BeforeValidator(_localized)] = Field(alias="name")
    # Members holding any of these roles receive the box's letters …
    roles: Annotated[frozenset[Role], BeforeValidator(_role_names)] = frozenset()
    # … and so do these Telegram ids (registered members).
    telegram_ids: frozenset[int] = frozenset()

    def name(self, locale: str | None) -> str:
        names = cast("dict[str, str]", self.names)  # its keys are Locale strings
        return names.get(locale or "zh") or names.get("zh") or self.key


def _default_boxes() -> list[Box]:
    return [
        Box(
            key="principal",
            names={"zh": "院长信箱", "en": "Principal's mailbox"},
            roles=frozenset({Role.PRINCIPAL}),
        ),
        Box(
            key="secretary",
            names={"zh": "书记信箱", "en": "Party secretary's mailbox"},
            roles=frozenset({Role.SECRETARY}),
        ),
    ]


DEFAULT_BOXES = tuple(_default_boxes())


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    boxes: tuple[Box, ...] = DEFAULT_BOXES
    reply_days: int = 5
    timezone: str = "Asia/Shanghai"
    anonymous_per_day: int = 3
    # Notices to confidential senders leave in batches: as soon as this many senders have
    # news, and in any case at fixed times every `sender_release_hours` (the sweep's job).
    sender_batch: int = 3
    sender_release_hours: int = 3


class MailboxConfig(Section):
    boxes: list[Box] = Field(default_factory=_default_boxes, min_length=1)
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
    def _unique_keys(cls, value: list[Box]) -> list[Box]:
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

    def box(self, key: str) -> Box | None:
        return next((box for box in self.boxes if box.key == key), None)

    def settings(self, timezone: str) -> MailboxSettings:
        """What the service works with; `timezone` is the union's."""
        return MailboxSettings(
            boxes=tuple(self.boxes),
            reply_days=self.reply_days,
            timezone=timezone,
            anonymous_per_day=self.anonymous_per_day,
        )


ANONYMOUS_WINDOW = 24 * 3600  # seconds: "anonymous letters a day"
RECEIPT_FAILURES, RECEIPT_WINDOW = 5, 15 * 60  # wrong receipt codes per person, seconds


def _sliding(limit: int, window: int) -> AnonymousLimit:
    from mailboxes.memory import SlidingLimit

    return SlidingLimit(limit=limit, window=window)


@dataclass(slots=True)
class MailboxGuards:
    """Limits per person: anonymous letters, receipt-code guesses. In this process's memory
    (keyed by a hash with a random per-process key, so even a memory dump holds no id), or in
    Redis shared by every instance (mailboxes/redis_memory.py), chosen at composition."""

    anonymous_letters: AnonymousLimit
    receipt_failures: AnonymousLimit = field(
        default_factory=lambda: _sliding(RECEIPT_FAILURES, RECEIPT_WINDOW)
    )

    @classmethod
    def create(cls, anonymous_per_day: int) -> MailboxGuards:
        return cls(anonymous_letters=_sliding(anonymous_per_day, ANONYMOUS_WINDOW))


@dataclass(frozen=True, slots=True)
class MailboxContext:
    """What all updates share: the boxes, the key and this process's in-memory guards."""

    settings: MailboxSettings
    sealer: Sealer
    guards: MailboxGuards


@dataclass(frozen=True, slots=True)
class Sent:
    letter_id: int
    receipt_code: str | None = None  # anonymous letters only: shown once, never stored
