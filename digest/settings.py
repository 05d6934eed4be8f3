"""The [digest] config section, and the settings the digest service works with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from common.settings import Section, Zoned, known_zone
from improvements.settings import ImprovementSettings
from mailboxes.settings import DEFAULT_BOXES, Box, MailboxConfig
from members.roles import known_role_names

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class DigestSettings(Zoned):
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
    # The mailbox: its boxes (names and readers) and the reply deadline.
    boxes: tuple[Box, ...] = DEFAULT_BOXES
    mailbox_reply_days: int = 5


class DigestConfig(Section):
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
    roles: Annotated[list[str], AfterValidator(known_role_names)] = Field(
        default_factory=lambda: ["officer", "chair"]
    )
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
        return known_zone(value) if value else value

    def settings(
        self, timezone: str, *, small_group: int, mailbox: MailboxConfig
    ) -> DigestSettings:
        """What the digest service works with: `timezone` is the union's (unless this section
        names its own), `small_group` the surveys', `mailbox` the [mailbox] section."""
        hour, minute = (int(part) for part in self.time.split(":"))
        return DigestSettings(
            weekday=WEEKDAYS.index(self.weekday) + 1,
            at=time(hour, minute),
            timezone=self.timezone or timezone,
            whole_union_roles=tuple(self.roles),
            small_group=small_group,
            themes=self.themes,
            quotes=self.quotes,
            theme_text_limit=self.theme_text_limit,
            boxes=tuple(mailbox.boxes),
            mailbox_reply_days=mailbox.reply_days,
        )

    def improvement_settings(self, timezone: str) -> ImprovementSettings:
        """The improvement actions' deadlines (their keys live in this section)."""
        return ImprovementSettings(
            reminder_days=tuple(sorted(self.action_reminder_days, reverse=True)),
            escalate_after_days=self.action_escalate_after_days,
            timezone=timezone,
        )
