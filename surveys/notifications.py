"""Templates of survey messages the bot sends on its own (rendered in handlers/surveys/)."""

from __future__ import annotations

SURVEY_INVITATION = "survey.invitation"  # survey_id, title {locale: text}, anonymous, closes
SURVEY_REMINDER = "survey.reminder"  # same params
