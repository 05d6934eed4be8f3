"""How the proposal notices look (the outbox renders them at send time), and the names of
statuses and ratings the screens share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as html

from handlers.callbacks import ProposalAction, ProposalCB
from handlers.renderers import Rendered
from proposals import notifications as templates
from proposals.model import STATUS_LABELS, Rating, Status


def status_name(status: str) -> str:
    return _(STATUS_LABELS[Status(status)])


def rating_name(rating: Rating) -> str:
    return {
        Rating.SATISFIED: _("😊 Satisfied"),
        Rating.BASICALLY: _("🙂 Basically satisfied"),
        Rating.UNSATISFIED: _("🙁 Not satisfied"),
    }[rating]


def _header(params: Mapping[str, Any]) -> str:
    return _("Proposal #{id} “{title}”").format(
        id=params["proposal_id"], title=html.quote(str(params.get("title", "")))
    )


def _view_button(params: Mapping[str, Any], text: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=text,
        callback_data=ProposalCB(
            action=ProposalAction.VIEW, proposal_id=int(params["proposal_id"])
        ),
    )
    return builder.as_markup()


def render_status(params: Mapping[str, Any]) -> Rendered:
    lines = [_header(params), _("Now: {status}").format(status=status_name(str(params["status"])))]
    if params.get("note"):
        lines.append(html.quote(str(params["note"])))
    markup = None
    if params["status"] == Status.ANSWERED and params.get("proposer"):
        lines.append(_("How satisfied are you with this answer?"))
        builder = InlineKeyboardBuilder()
        for rating in Rating:
            builder.button(
                text=rating_name(rating),
                callback_data=ProposalCB(
                    action=ProposalAction.RATE,
                    proposal_id=int(params["proposal_id"]),
                    value=rating.value,
                ),
            )
        builder.adjust(1)
        markup = builder.as_markup()
    return "\n".join(lines), markup


def render_assigned(params: Mapping[str, Any]) -> Rendered:
    text = "\n".join(
        [
            _header(params),
            _("Assigned to {department} for an official answer by {due_on}.").format(
                department=html.quote(str(params["department"])), due_on=params["due_on"]
            ),
        ]
    )
    return text, _view_button(params, _("Open"))


def render_clarification(params: Mapping[str, Any]) -> Rendered:
    text = "\n".join(
        [_header(params), _("The handling department asks:"), html.quote(str(params["note"]))]
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Reply"),
        callback_data=ProposalCB(
            action=ProposalAction.REPLY, proposal_id=int(params["proposal_id"])
        ),
    )
    return text, builder.as_markup()


def render_clarified(params: Mapping[str, Any]) -> Rendered:
    text = "\n".join([_header(params), _("The proposer replies:"), html.quote(str(params["note"]))])
    return text, _view_button(params, _("Open"))


def render_due_soon(params: Mapping[str, Any]) -> Rendered:
    text = "\n".join(
        [_header(params), _("⏰ The answer is due on {due_on}.").format(due_on=params["due_on"])]
    )
    return text, _view_button(params, _("Open"))


def render_overdue(params: Mapping[str, Any]) -> Rendered:
    if int(params["level"]) >= 2:
        line = _("‼️ Still overdue (due {due_on}): escalated to the union chair.")
    else:
        line = _("⚠️ Overdue: the answer was due on {due_on}.")
    return "\n".join([_header(params), line.format(due_on=params["due_on"])]), _view_button(
        params, _("Open")
    )


def render_review(params: Mapping[str, Any]) -> Rendered:
    text = "\n".join([_header(params), _("📥 This proposal is ready for review.")])
    return text, _view_button(params, _("Open"))


def render_unhandled(params: Mapping[str, Any]) -> Rendered:
    line = _(
        "Assigned to {department} (answer due {due_on}), which has no handlers in the bot: "
        "nobody there was told. Please follow it up."
    ).format(department=html.quote(str(params["department"])), due_on=params["due_on"])
    return "\n".join([_header(params), line]), _view_button(params, _("Open"))


RENDERERS = {
    templates.PROPOSAL_REVIEW: render_review,
    templates.PROPOSAL_UNHANDLED: render_unhandled,
    templates.PROPOSAL_STATUS: render_status,
    templates.PROPOSAL_ASSIGNED: render_assigned,
    templates.PROPOSAL_CLARIFICATION: render_clarification,
    templates.PROPOSAL_CLARIFIED: render_clarified,
    templates.PROPOSAL_DUE_SOON: render_due_soon,
    templates.PROPOSAL_OVERDUE: render_overdue,
}
