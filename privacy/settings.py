"""The [retention] config section, and the policy the daily purge applies."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from common.settings import Section


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    handled_letters_days: int = 730
    outbox_days: int = 30
    processed_updates_days: int = 7
    survey_text_days: int = 1095
    conversations_days: int = 30


class RetentionConfig(Section):
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

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            handled_letters_days=self.handled_letters_days,
            outbox_days=self.outbox_days,
            processed_updates_days=self.processed_updates_days,
            survey_text_days=self.survey_text_days,
            conversations_days=self.conversations_days,
        )
