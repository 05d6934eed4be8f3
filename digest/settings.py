"""Digest settings as plain data (the bot builds them from the [digest] config section)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class DigestBox:
    key: str
    names: dict[str, str]
    roles: tuple[str, ...] = ()
    telegram_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestSettings:
    weekday: int = 1  # ISO: 1 = Monday
    at: time = time(8, 30)
    timezone: str = "Asia/Shanghai"
    whole_union_roles: tuple[str, ...] = ("officer", "chair")
    small_group: int = 5
    themes: int = 8  # keywords shown
    quotes: int = 2  # representative quotes per keyword
    theme_text_limit: int = 5000  # texts read per source and period for the themes
    due_soon_days: int = 7  # a department's items due within this many days
    list_limit: int = 15  # items listed in the message (the workbook has them all)
    # The mailbox: each box's names and readers (roles, Telegram ids), and the reply deadline.
    boxes: tuple[DigestBox, ...] = (
        DigestBox("principal", {"zh": "院长信箱", "en": "Principal's mailbox"}, ("principal",)),
        DigestBox(
            "secretary", {"zh": "书记信箱", "en": "Party secretary's mailbox"}, ("secretary",)
        ),
    )
    mailbox_reply_days: int = 5
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))

    @property
    def tz(self) -> ZoneInfo:
        return self._tz


def settings_from(config: object) -> DigestSettings:
    """DigestSettings from bot.config.Config (duck-typed: no import of the bot layer)."""
    digest = config.digest  # type: ignore[attr-defined]  # duck-typed Config
    hour, minute = (int(part) for part in digest.time.split(":"))
    return DigestSettings(
        weekday=WEEKDAYS.index(digest.weekday) + 1,
        at=time(hour, minute),
        timezone=digest.timezone or config.union.timezone,  # type: ignore[attr-defined]  # duck-typed Config
        whole_union_roles=tuple(digest.roles),
        small_group=config.surveys.small_group,  # type: ignore[attr-defined]  # duck-typed Config
        themes=digest.themes,
        quotes=digest.quotes,
        theme_text_limit=digest.theme_text_limit,
        boxes=tuple(
            DigestBox(box.key, dict(box.name), tuple(box.roles), tuple(box.telegram_ids))
            for box in config.mailbox.boxes  # type: ignore[attr-defined]  # duck-typed Config
        ),
        mailbox_reply_days=config.mailbox.reply_days,  # type: ignore[attr-defined]  # duck-typed Config
    )
