"""Proposal lifecycle as data: statuses, who may move a proposal where, and plain DTOs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from common.errors import N_


class Kind(StrEnum):
    PROPOSAL = "proposal"  # 提案: filed by representatives (configurable), needs co-signers
    SUGGESTION = "suggestion"  # 意见建议: any member, same flow


class Status(StrEnum):
    DRAFT = "draft"
    COLLECTING = "collecting"  # waiting for co-signatures
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"  # 立案
    CONVERTED = "converted"  # 转为意见建议
    MERGED = "merged"  # 并案 (into another proposal)
    DECLINED = "declined"  # 不予立案
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


# What people read for each status (message ids; translated where shown).
STATUS_LABELS = {
    Status.DRAFT: N_("draft"),
    Status.COLLECTING: N_("collecting co-signatures"),
    Status.SUBMITTED: N_("submitted"),
    Status.UNDER_REVIEW: N_("under review"),
    Status.ACCEPTED: N_("accepted (立案)"),
    Status.CONVERTED: N_("converted to a suggestion"),
    Status.MERGED: N_("merged into another proposal"),
    Status.DECLINED: N_("declined"),
    Status.ASSIGNED: N_("with the handling department"),
    Status.ANSWERED: N_("answered"),
    Status.CLOSED: N_("completed and closed"),
}

# Timeline actions as people read them.
ACTION_LABELS = {
    "created": N_("draft started"),
    "submitted": N_("submitted"),
    "cosigned": N_("co-signed"),
    "enough_cosigners": N_("enough co-signers: sent to review"),
    "review_started": N_("review started"),
    "accepted": N_("accepted (立案)"),
    "converted": N_("converted to a suggestion"),
    "merged": N_("merged into another proposal"),
    "declined": N_("declined"),
    "assigned": N_("assigned"),
    "clarification_asked": N_("the department asked a question"),
    "clarified": N_("the proposer replied"),
    "answered": N_("answered"),
    "rated": N_("rated"),
    "rating_comment": N_("commented on the answer"),
    "reopened": N_("not satisfied: reopened to the department"),
    "sent_to_officers": N_("not satisfied again: back to the union officers"),
}

# Steps taken in office (officers, the handling department): every member may see who took
# them. The other steps are the proposer's and the co-signers' own: the public timeline shows
# that they happened (so how many co-signed), not who — docs/privacy.md promises counts.
OFFICIAL_ACTIONS = frozenset(
    {
        "review_started",
        "accepted",
        "converted",
        "merged",
        "declined",
        "assigned",
        "clarification_asked",
        "answered",
    }
)
# What the department and the proposer said to each other stays between them and officers.
PRIVATE_NOTES = frozenset({"clarification_asked", "clarified"})

REVIEWABLE = frozenset({Status.SUBMITTED, Status.UNDER_REVIEW})
ASSIGNABLE = frozenset({Status.ACCEPTED, Status.CONVERTED})
# Co-signing stays open until officers have decided.
COSIGNABLE = frozenset({Status.COLLECTING, Status.SUBMITTED, Status.UNDER_REVIEW})
FINAL = frozenset({Status.MERGED, Status.DECLINED, Status.CLOSED})


@dataclass(frozen=True, slots=True)
class ProposalDTO:
    id: int
    kind: Kind
    category: str
    title: str
    body: str
    status: Status
    proposer_id: int | None
    department: str | None
    due_on: date | None
    merged_into_id: int | None
    decision_reason: str | None
    answer: str | None
    rating: Rating | None
    rating_comment: str | None
    reopen_count: int
    created_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventDTO:
    at: datetime
    actor_id: int | None
    action: str
    from_status: Status | None
    to_status: Status | None
    note: str | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step of the timeline as a given reader may see it."""

    at: datetime
    action: str
    actor: str | None  # the name, where this reader may see who took the step
    note: str | None  # None where there is none or this reader may not see it


@dataclass(frozen=True, slots=True)
class AttachmentDTO:
    stage: str  # filing | answer
    kind: str  # photo | document
    telegram_file_id: str
    file_name: str | None


# -- what moves with a status change (ProposalStore.transition): one type per kind of move ------
@dataclass(frozen=True, slots=True)
class Submitted:
    at: datetime


@dataclass(frozen=True, slots=True)
class Decided:
    """Accepted, converted (the kind becomes a suggestion), merged or declined, with a reason."""

    reason: str
    merged_into_id: int | None = None
    converted: bool = False


@dataclass(frozen=True, slots=True)
class Assigned:
    department: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Answered:
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Rated:
    rating: Rating
    comment: str | None  # replaces an earlier rating's comment, even with none
    reopened: bool = False  # the first 不满意: back to the handler once


StatusChange = Submitted | Decided | Assigned | Answered | Rated
