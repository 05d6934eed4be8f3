"""Callback data: short prefixes, typed fields. Never trusted: handlers re-check everything."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from members.roles import Role


class MenuAction(StrEnum):
    SURVEYS = "sv"
    PROPOSALS = "pr"
    MAILBOX = "mb"
    MINE = "my"
    LANGUAGE = "lg"
    HELP = "hp"
    APPROVALS = "ap"
    ROLES = "rl"
    SURVEY_ADMIN = "sa"
    PROPOSAL_QUEUE = "pq"


class MenuCB(CallbackData, prefix="m1"):
    action: MenuAction


class ConsentCB(CallbackData, prefix="c1"):
    accept: bool


class LanguageCB(CallbackData, prefix="l1"):
    locale: str


class ApprovalCB(CallbackData, prefix="a1"):
    request_id: int
    approve: bool


class RoleCB(CallbackData, prefix="r1"):
    member_id: int
    role: Role


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


class ProposalAction(StrEnum):
    VIEW = "v"
    RATE = "r"
    REPLY = "y"  # answer a handler's question
    NEW = "n"  # value: kind
    CATEGORY = "c"  # value: category index
    FINISH = "f"  # the text is complete: preview
    SUBMIT = "s"
    COSIGN = "g"
    BOARD = "b"  # value: page
    MINE = "m"
    # officers and handlers
    DECIDE = "d"  # value: accepted | converted | merged | declined
    ASSIGN = "a"
    ANSWER = "w"
    ASK = "q"
    QUEUE = "u"  # officers: waiting for review; handlers: their department's
    TIMELINE = "t"
    FILES = "x"


class ProposalCB(CallbackData, prefix="p1"):
    action: ProposalAction
    proposal_id: int
    value: str = ""


class ImprovementAction(StrEnum):
    NEW = "n"  # open one from a source: kind, ref_id, ref_key
    VIEW = "v"
    LIST = "l"
    START = "s"
    CHECK = "c"  # measures done: checking the effect
    EFFECT = "e"  # record the effect
    CLOSE = "x"
    DROP = "d"


class ImprovementCB(CallbackData, prefix="ia1"):
    """kind: p proposal, q survey question (ref_key: its 1-based position), t digest theme
    (ref_id: digest, ref_key: theme index), l letter. Positions, not ids: 64 bytes at most."""

    action: ImprovementAction
    action_id: int = 0
    kind: str = ""
    ref_id: int = 0
    ref_key: str = ""
