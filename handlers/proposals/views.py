"""Proposal screens: the card and its buttons, the menu, categories, preview, listings."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from common.text import shorten
from handlers.callbacks import (
    ImprovementAction,
    ImprovementCB,
    ProposalAction,
    ProposalCB,
)
from handlers.proposals.notices import status_name
from members.dto import Identity
from members.roles import Role
from proposals.model import (
    ASSIGNABLE,
    COSIGNABLE,
    REVIEWABLE,
    Kind,
    ProposalDTO,
    Status,
)


def kind_name(kind: Kind) -> str:
    return _("proposal") if kind is Kind.PROPOSAL else _("suggestion")


def proposal_card(proposal: ProposalDTO, cosigners: int, min_cosigners: int) -> str:
    lines = [
        f"<b>#{proposal.id} {html.quote(proposal.title or '…')}</b>",
        _("{kind} · {category} · {status}").format(
            kind=kind_name(proposal.kind),
            category=html.quote(proposal.category),
            status=status_name(proposal.status),
        ),
        _("Co-signers: {count}").format(count=cosigners)
        + (f" / {min_cosigners}" if proposal.status is Status.COLLECTING else ""),
        "",
        html.quote(shorten(proposal.body, 1500)),
    ]
    if proposal.decision_reason:
        lines += ["", _("Decision: {reason}").format(reason=html.quote(proposal.decision_reason))]
    if proposal.department:
        lines.append(
            _("Handled by {department}, due {due_on}.").format(
                department=html.quote(proposal.department), due_on=proposal.due_on
            )
        )
    if proposal.answer:
        lines += [
            "",
            _("Official answer: {answer}").format(
                answer=html.quote(shorten(proposal.answer, 1500))
            ),
        ]
    return "\n".join(lines)


def proposal_cb(action: ProposalAction, proposal_id: int = 0, value: str = "") -> str:
    return ProposalCB(action=action, proposal_id=proposal_id, value=value).pack()


def card_keyboard(
    proposal: ProposalDTO, identity: Identity, attachments: int = 0
) -> InlineKeyboardMarkup:
    """The actions this person may take on this proposal now (the service checks again)."""
    builder = InlineKeyboardBuilder()
    member = identity.member
    own = member is not None and member.id == proposal.proposer_id
    if proposal.status in COSIGNABLE and not own:
        builder.button(
            text=_("✍️ Co-sign"), callback_data=proposal_cb(ProposalAction.COSIGN, proposal.id)
        )
    if identity.has(Role.OFFICER) and proposal.status in REVIEWABLE:
        for decision, text in (
            (Status.ACCEPTED, _("Accept (立案)")),
            (Status.CONVERTED, _("Convert to a suggestion")),
            (Status.MERGED, _("Merge")),
            (Status.DECLINED, _("Decline")),
        ):
            builder.button(
                text=text,
                callback_data=proposal_cb(ProposalAction.DECIDE, proposal.id, decision.value),
            )
    if identity.has(Role.OFFICER) and proposal.status in ASSIGNABLE:
        builder.button(
            text=_("Assign to a department"),
            callback_data=proposal_cb(ProposalAction.ASSIGN, proposal.id),
        )
    handler = (
        identity.has(Role.HANDLER)
        and member is not None
        and (member.department == proposal.department)
    )
    if proposal.status is Status.ASSIGNED and (handler or identity.has(Role.OFFICER)):
        builder.button(
            text=_("Answer"), callback_data=proposal_cb(ProposalAction.ANSWER, proposal.id)
        )
        builder.button(
            text=_("Ask the proposer"), callback_data=proposal_cb(ProposalAction.ASK, proposal.id)
        )
    builder.button(
        text=_("🕓 Timeline"), callback_data=proposal_cb(ProposalAction.TIMELINE, proposal.id)
    )
    if identity.has(Role.OFFICER) and proposal.status is not Status.DRAFT:
        builder.button(
            text=_("🛠 Improvement action"),
            callback_data=ImprovementCB(
                action=ImprovementAction.NEW, kind="p", ref_id=proposal.id
            ).pack(),
        )
    if attachments:
        builder.button(
            text=_("📎 Attachments ({count})").format(count=attachments),
            callback_data=proposal_cb(ProposalAction.FILES, proposal.id),
        )
    builder.adjust(2)
    return builder.as_markup()


def menu_view(may_file_proposals: bool) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if may_file_proposals:
        builder.button(
            text=_("📝 File a proposal"),
            callback_data=proposal_cb(ProposalAction.NEW, value=Kind.PROPOSAL.value),
        )
    builder.button(
        text=_("💬 Make a suggestion"),
        callback_data=proposal_cb(ProposalAction.NEW, value=Kind.SUGGESTION.value),
    )
    builder.button(
        text=_("📋 Public board"), callback_data=proposal_cb(ProposalAction.BOARD, value="0")
    )
    builder.button(text=_("🗂 My proposals"), callback_data=proposal_cb(ProposalAction.MINE))
    builder.adjust(1)
    return _("Proposals and suggestions"), builder.as_markup()


def categories_view(kind: str, categories: Sequence[str]) -> tuple[str, InlineKeyboardMarkup]:
    """A button carries the category's position, never its name."""
    builder = InlineKeyboardBuilder()
    for index, category in enumerate(categories):
        builder.button(
            text=category,
            callback_data=proposal_cb(ProposalAction.CATEGORY, value=f"{kind}-{index}"),
        )
    builder.adjust(2)
    return _("Choose a category:"), builder.as_markup()


def preview_view(
    proposal: ProposalDTO, attachments: int, min_cosigners: int
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📨 Submit"), callback_data=proposal_cb(ProposalAction.SUBMIT, proposal.id)
    )
    return (
        _("Preview:")
        + "\n\n"
        + proposal_card(proposal, 0, min_cosigners)
        + "\n"
        + _("Attachments: {count}").format(count=attachments)
    ), builder.as_markup()


def finish_keyboard(proposal_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Done, show the preview"),
        callback_data=proposal_cb(ProposalAction.FINISH, proposal_id),
    )
    return builder.as_markup()


BOARD_FILTERS = (
    ("", None),
    (Status.ASSIGNED.value, Status.ASSIGNED),
    (Status.ANSWERED.value, Status.ANSWERED),
    (Status.CLOSED.value, Status.CLOSED),
    (Status.DECLINED.value, Status.DECLINED),
)


def board_value(page: int, status: str, category: str) -> str:
    return f"{page}.{status}.{category}"  # ":" separates callback fields, so "." here


PER_PAGE = 5


def listing(
    items: list[ProposalDTO],
    total: int,
    page: int | None,
    filters: tuple[str, str] = ("", ""),
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for proposal in items[:20]:
        builder.row(
            InlineKeyboardButton(
                text=f"#{proposal.id} {proposal.title or '…'} · {status_name(proposal.status)}",
                callback_data=proposal_cb(ProposalAction.VIEW, proposal.id),
            )
        )
    if page is not None:
        navigation = []
        if page > 0:
            navigation.append(
                InlineKeyboardButton(
                    text="⬅️",
                    callback_data=proposal_cb(
                        ProposalAction.BOARD, value=board_value(page - 1, *filters)
                    ),
                )
            )
        if (page + 1) * PER_PAGE < total:
            navigation.append(
                InlineKeyboardButton(
                    text="➡️",
                    callback_data=proposal_cb(
                        ProposalAction.BOARD, value=board_value(page + 1, *filters)
                    ),
                )
            )
        if navigation:
            builder.row(*navigation)
    text = _("{total} in all.").format(total=total) if total else _("Nothing here yet.")
    return text, builder.as_markup()
