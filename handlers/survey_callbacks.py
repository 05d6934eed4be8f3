"""Callback data of the survey screens (members answering, officers preparing and scheduling).
Never trusted: handlers re-check everything."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class SurveyAction(StrEnum):
    INTRO = "i"
    START = "s"
    CHOOSE = "c"
    TOGGLE = "t"
    DONE = "d"
    RATE = "r"
    SKIP = "k"
    BACK = "b"
    EDIT = "e"
    SUBMIT = "u"


class SurveyCB(CallbackData, prefix="s1"):
    """position: 1-based question index the button belongs to (stale buttons are detected)."""

    action: SurveyAction
    survey_id: int
    position: int = 0
    value: int = 0


class SurveyAdminAction(StrEnum):
    CARD = "c"
    OPEN = "o"
    CLOSE = "x"
    RESULTS = "r"
    EXPORT = "e"


class SurveyAdminCB(CallbackData, prefix="sa1"):
    action: SurveyAdminAction
    survey_id: int


class TrySurveyCB(SurveyCB, prefix="ty1"):
    """An officer trying their own draft: the answering buttons, answered into nothing."""


class DraftAction(StrEnum):
    NEW = "n"  # "from a template" or "from a file"
    TEMPLATES = "l"  # the ready-made surveys
    PICK = "p"  # value: index of the ready-made survey
    FROM_FILE = "f"
    TEMPLATE_FILE = "w"  # the blank Excel template
    RENAME = "m"
    EXCEL = "x"  # the draft's definition as a workbook, to edit
    TRY = "y"
    SCHEDULE = "s"


class DraftCB(CallbackData, prefix="sd1"):
    action: DraftAction
    survey_id: int = 0
    value: int = 0


class ScheduleAction(StrEnum):
    OPENS = "o"  # value: 0 now, 1 tomorrow 08:00, 2 next Monday 08:00
    CLOSES = "c"  # value: days after opening (18:00), 0 none
    REMINDERS = "r"  # value: 1 the usual two, 0 none
    AUDIENCE = "a"  # value: 0 everyone, 1 by role, 2 by department
    ROLE = "l"  # value: index among the roles members hold (toggles)
    DEPARTMENT = "d"  # value: index among the roster's departments (toggles)
    AUDIENCE_DONE = "e"
    CONFIRM = "k"
    RESTART = "b"
    CANCEL = "x"


class ScheduleCB(CallbackData, prefix="sc1"):
    """Indices, not names: a department name would not fit in 64 bytes."""

    action: ScheduleAction
    survey_id: int
    value: int = 0
