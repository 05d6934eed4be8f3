"""Work notices: the messages that tell someone an item waits for them. Each kind can be
muted per member (/settings); sweep-made kinds are held briefly in the outbox and sent as one
message per recipient when several arrive at once (docs/outbox.md, "Batched work notices")."""

from __future__ import annotations

from enum import StrEnum

from common.errors import N_
from improvements import notifications as improvements
from mailboxes import notifications as mailbox
from members import notifications as members
from members.roles import Role
from proposals import notifications as proposals


class NoticeKind(StrEnum):
    """Short values: they travel in callback data."""

    REVIEW = "rv"  # a proposal reached review → officers
    ASSIGNED = "as"  # a proposal assigned → the department's handlers (officers if none)
    REGISTRATION = "rg"  # a registration request → officers
    CLARIFIED = "cl"  # the proposer answered a question → the handlers
    PROPOSAL_DUE = "pd"  # an answer due soon (handlers) or overdue (officers, the chair)
    LETTER_OVERDUE = "lo"  # a letter without a first reply → the box's recipients
    ACTION_DUE = "ad"  # an improvement action due soon or overdue → its owner


KIND_LABELS: dict[NoticeKind, str] = {
    NoticeKind.REVIEW: N_("Proposals ready for review"),
    NoticeKind.ASSIGNED: N_("Proposals assigned to my department"),
    NoticeKind.REGISTRATION: N_("Registration requests"),
    NoticeKind.CLARIFIED: N_("Proposers' replies to my questions"),
    NoticeKind.PROPOSAL_DUE: N_("Proposal answers due or overdue"),
    NoticeKind.LETTER_OVERDUE: N_("Letters without a first reply"),
    NoticeKind.ACTION_DUE: N_("Improvement actions due"),
}

# Which roles get each kind: /settings offers a person only the kinds that reach them.
KIND_ROLES: dict[NoticeKind, frozenset[Role]] = {
    NoticeKind.REVIEW: frozenset({Role.OFFICER}),
    NoticeKind.ASSIGNED: frozenset({Role.HANDLER, Role.OFFICER}),
    NoticeKind.REGISTRATION: frozenset({Role.OFFICER}),
    NoticeKind.CLARIFIED: frozenset({Role.HANDLER}),
    NoticeKind.PROPOSAL_DUE: frozenset({Role.HANDLER, Role.OFFICER, Role.CHAIR}),
    NoticeKind.LETTER_OVERDUE: frozenset({Role.PRINCIPAL, Role.SECRETARY}),
    NoticeKind.ACTION_DUE: frozenset({Role.HANDLER, Role.OFFICER, Role.CHAIR}),
}

# Outbox template → the kind a member may mute. Templates not listed always go out.
TEMPLATE_KINDS: dict[str, NoticeKind] = {
    proposals.PROPOSAL_REVIEW: NoticeKind.REVIEW,
    proposals.PROPOSAL_ASSIGNED: NoticeKind.ASSIGNED,
    proposals.PROPOSAL_UNHANDLED: NoticeKind.ASSIGNED,
    members.REGISTRATION_REQUEST: NoticeKind.REGISTRATION,
    proposals.PROPOSAL_CLARIFIED: NoticeKind.CLARIFIED,
    proposals.PROPOSAL_DUE_SOON: NoticeKind.PROPOSAL_DUE,
    proposals.PROPOSAL_OVERDUE: NoticeKind.PROPOSAL_DUE,
    mailbox.LETTER_OVERDUE: NoticeKind.LETTER_OVERDUE,
    improvements.IMPROVEMENT_DUE_SOON: NoticeKind.ACTION_DUE,
    improvements.IMPROVEMENT_OVERDUE: NoticeKind.ACTION_DUE,
}

# Held in the outbox until the next notice sweep, then merged per (chat, template): the ones
# that come in bursts (sweeps, several proposals co-signed within minutes). Notices a person
# answers with buttons of their own (a registration request) or that carry the words of
# someone waiting (a proposer's reply) go out at once.
BATCHED: frozenset[str] = frozenset(
    {
        proposals.PROPOSAL_REVIEW,
        proposals.PROPOSAL_DUE_SOON,
        proposals.PROPOSAL_OVERDUE,
        mailbox.LETTER_OVERDUE,
        improvements.IMPROVEMENT_DUE_SOON,
        improvements.IMPROVEMENT_OVERDUE,
    }
)

# The merged message: params {"template": the items' template, "items": [their params]}.
NOTICE_BATCH = "notice.batch"


def kinds_for(roles: frozenset[Role]) -> list[NoticeKind]:
    """The kinds that can reach someone with these (effective) roles, in display order."""
    return [kind for kind in NoticeKind if KIND_ROLES[kind] & roles]
