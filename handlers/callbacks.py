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
    INBOX = "ib"
    TODO = "td"
    SETTINGS = "st"


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
    DEPARTMENT = "dp"  # value: department token (handlers.departments), "!" appended: confirmed
    DUE = "dd"  # value: "<days>-<department token>"


class ProposalCB(CallbackData, prefix="p1"):
    action: ProposalAction
    proposal_id: int
    value: str = ""


class MailboxAction(StrEnum):
    BOX = "b"  # box chosen: pick the type
    TYPE = "t"  # type chosen: pick the identity mode
    MODE = "m"  # mode chosen: start writing
    PREVIEW = "p"
    SEND = "s"
    DISCARD = "x"
    MINE = "l"
    OPEN = "o"  # one of my letters
    FOLLOW = "f"  # answer back on my letter
    RATE = "r"  # value: 1–5
    FILES = "a"
    # letters opened with a receipt code: the letter comes from the in-memory session, never
    # from the button, so a forged button cannot reach someone else's letter
    RECEIPT_FOLLOW = "rf"
    RECEIPT_RATE = "rr"
    RECEIPT_FILES = "ra"


class MailboxCB(CallbackData, prefix="mb1"):
    action: MailboxAction
    letter_id: int = 0
    box: str = ""
    type: str = ""
    mode: str = ""
    value: int = 0


class InboxAction(StrEnum):
    LIST = "l"  # value: page; filter
    OPEN = "o"
    REPLY = "r"
    ASK = "q"
    HANDLE = "h"
    TRANSFER = "t"  # box empty: choose; else: ask for the note
    FILES = "a"
    SEND = "s"  # the reply being written is complete


class InboxFilter(StrEnum):
    OPEN = "o"
    UNREAD = "u"
    ALL = "a"


class InboxCB(CallbackData, prefix="ib1"):
    action: InboxAction
    letter_id: int = 0
    page: int = 0
    view: InboxFilter = InboxFilter.OPEN
    box: str = ""


class DataAction(StrEnum):
    JSON = "j"
    XLSX = "x"
    ERASE = "e"  # explain what erasure does, ask to confirm
    REQUEST = "r"  # confirmed: file the request
    CANCEL = "c"
    # officers
    PENDING = "p"
    CONFIRM = "k"  # member_id: ask "really?"
    ERASE_NOW = "n"  # member_id: erase


class DataCB(CallbackData, prefix="d1"):
    action: DataAction
    member_id: int = 0


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


class TodoQueue(StrEnum):
    REVIEW = "r"
    ASSIGN = "a"
    DUE = "d"
    LETTERS = "l"
    ACTIONS = "x"


class TodoCB(CallbackData, prefix="td1"):
    queue: TodoQueue


class NoticeCB(CallbackData, prefix="nt1"):
    """kind: a todo.notices.NoticeKind value (two letters)."""

    kind: str


class MemberPickCB(CallbackData, prefix="mp1"):
    """Choosing a member whose roles to change: a department (its position in the roster's
    sorted list: names can be long), then a member by id. member_id 0: the department list."""

    department: int = -1
    member_id: int = 0
    page: int = 0
