"""Improvement actions in chat: an officer opens one from a proposal card, a survey question
or a digest theme and fills it in step by step; /actions lists them; the card moves an action
along, records its effect with the measured evidence, and closes it (members are told)."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ImprovementAction, ImprovementCB
from bot.filters import WithoutText
from common.errors import N_, DomainError, PermissionDenied
from handlers.common import CallbackHandler, ask_for_text, register_actions
from handlers.improvement_cards import (
    RENDERERS,
    card_keyboard,
    card_text,
    cb,
    evidence_lines,
)
from handlers.screen import Screen
from improvements.model import STATUS_LABELS, ActionDTO, Link, LinkKind
from improvements.service import ActionDraft, ImprovementService
from mailboxes.service import MailboxService
from members.dto import Identity
from members.roles import Role
from proposals.service import ProposalService
from storage.uow import Repositories
from surveys.service import SurveyService

__all__ = ["RENDERERS", "create_router"]  # RENDERERS: see improvement_cards

KINDS = {"p": LinkKind.PROPOSAL, "q": LinkKind.QUESTION, "t": LinkKind.THEME, "l": LinkKind.LETTER}


class Steps(StatesGroup):
    problem = State()
    cause = State()
    measures = State()
    owner = State()
    due = State()
    expected = State()
    effect = State()
    reason = State()


ORDER = [Steps.problem, Steps.cause, Steps.measures, Steps.owner, Steps.due, Steps.expected]
FIELDS = {
    Steps.problem: "problem",
    Steps.cause: "cause",
    Steps.measures: "measures",
    Steps.owner: "owner",
    Steps.due: "due",
    Steps.expected: "expected",
}


def _prompt(step: State) -> str:
    return {
        Steps.problem: _("Step 1/6. Send the problem (问题)."),
        Steps.cause: _("Step 2/6. Send the cause analysis (原因分析)."),
        Steps.measures: _("Step 3/6. Send the measures (改进措施)."),
        Steps.owner: _(
            "Step 4/6. Who is responsible? Send an employee id, or the name of a department."
        ),
        Steps.due: _("Step 5/6. Send the due date as YYYY-MM-DD, a number of days, or “-”."),
        Steps.expected: _("Step 6/6. Send the expected effect."),
        Steps.effect: _("Send the effect (改进成效) in words; the figures above are kept with it."),
        Steps.reason: _("Send the reason for dropping this action."),
    }[step]


async def _show(screen: Screen, action: ActionDTO, identity: Identity) -> None:
    await screen.show(card_text(action), reply_markup=card_keyboard(action, identity))


# -- opening ------------------------------------------------------------------------------------
async def _source(
    callback_data: ImprovementCB,
    identity: Identity,
    repos: Repositories,
    services: tuple[ProposalService, SurveyService, MailboxService],
) -> tuple[Link, str]:
    """The link to store and the text that starts the problem."""
    proposals, surveys, mailbox = services
    kind = KINDS.get(callback_data.kind)
    locale = get_i18n().current_locale
    if kind is LinkKind.PROPOSAL:
        # Never a draft: a forged button must not show the title of someone's unsent text.
        proposal = await proposals.published(callback_data.ref_id)
        return Link(kind, proposal.id), proposal.title
    if kind is LinkKind.QUESTION:
        survey = await surveys.get(callback_data.ref_id)
        position = int(callback_data.ref_key or 0)
        questions = survey.definition.questions
        if not 1 <= position <= len(questions):
            raise DomainError(N_("This button is no longer valid."))
        question = questions[position - 1]
        return Link(kind, survey.id, question.id), question.text.get(locale)
    if kind is LinkKind.THEME:
        stored = await repos.digests.stored_by_id(callback_data.ref_id)
        # Digest ids are sequential: only a digest meant for this reader (the whole union's
        # for officers, a box's for that box's recipients) may lend its keywords.
        if stored is None or not _may_read_digest(stored[1], identity, mailbox):
            raise DomainError(N_("This button is no longer valid."))
        themes = json.loads(stored[2])["sections"].get("themes", {}).get("themes", [])
        index = int(callback_data.ref_key or -1)
        if not 0 <= index < len(themes):
            raise DomainError(N_("This button is no longer valid."))
        return Link(kind, callback_data.ref_id, themes[index]["keyword"]), themes[index]["keyword"]
    if kind is LinkKind.LETTER:
        # Only a recipient of the letter's box may link it (its text stays in the mailbox).
        letter = await mailbox.check_received(identity, callback_data.ref_id)
        return Link(kind, letter.id), _("Letter #{id}").format(id=letter.id)
    raise DomainError(N_("This button is no longer valid."))


def _may_read_digest(audience: str, identity: Identity, mailbox: MailboxService) -> bool:
    kind, _sep, key = audience.partition(":")
    if kind == "officers":
        return identity.has(Role.OFFICER)
    if kind == "box":
        return key in mailbox.recipient_boxes(identity)
    return False  # department digests carry no themes


async def on_new(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    repos: Repositories,
    state: FSMContext,
    proposals: ProposalService,
    surveys: SurveyService,
    mailbox: MailboxService,
    screen: Screen,
) -> None:
    if not identity.has(Role.OFFICER):
        raise PermissionDenied()
    link, source = await _source(callback_data, identity, repos, (proposals, surveys, mailbox))
    await state.set_state(Steps.problem)
    await state.update_data({"link": [link.kind.value, link.ref_id, link.ref_key], "answers": {}})
    intro = _("New improvement action.")
    if source:
        intro += "\n" + _("From: {source}").format(source=html.escape(source[:200]))
    await screen.show(intro + "\n\n" + _prompt(Steps.problem))


def _due(text: str, today: date) -> date | None:
    text = text.strip()
    if text in ("-", "—", "无"):
        return None
    if text.isdigit():
        return today + timedelta(days=int(text))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            N_("Send the due date as YYYY-MM-DD, a number of days, or “-”.")
        ) from None


async def on_step(
    message: Message,
    identity: Identity,
    state: FSMContext,
    raw_state: str | None,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    step = next(s for s in ORDER if s.state == raw_state)
    data = await state.get_data()
    answers = dict(data.get("answers", {}))
    text = (message.text or "").strip()
    if step is Steps.due:
        today = improvements.today()
        due = _due(text, today)  # checked now, not at the end
        if due is not None and due < today:
            raise DomainError(N_("The due date cannot be in the past."))
    answers[FIELDS[step]] = text
    index = ORDER.index(step)
    if index + 1 < len(ORDER):
        await state.update_data({"answers": answers})
        await state.set_state(ORDER[index + 1])
        await message.answer(_prompt(ORDER[index + 1]))
        return
    kind, ref_id, ref_key = data["link"]
    action = await improvements.open(
        identity,
        ActionDraft(
            problem=answers["problem"],
            cause=answers["cause"],
            measures=answers["measures"],
            owner=answers["owner"],
            due_on=_due(answers["due"], improvements.today()),
            expected_effect=answers["expected"],
        ),
        [Link(LinkKind(kind), int(ref_id), str(ref_key))],
    )
    await state.clear()
    await message.answer(_("Improvement action #{id} opened.").format(id=action.id))
    await _show(screen, action, identity)


# -- working on it ------------------------------------------------------------------------------
async def on_list(
    _event: Message | CallbackQuery,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    """/actions and the list button alike."""
    actions = await improvements.unfinished(identity)
    today = improvements.today()
    if not actions:
        await screen.show(_("No improvement action is open."))
        return
    builder = InlineKeyboardBuilder()
    for action in actions[:50]:
        mark = "⚠️" if action.due_on and action.due_on < today else "🛠"
        builder.button(
            text=f"{mark} #{action.id} {action.title[:40]}",
            callback_data=cb(ImprovementAction.VIEW, action.id),
        )
    builder.adjust(1)
    await screen.show(
        _("Open improvement actions: {count}").format(count=len(actions)),
        reply_markup=builder.as_markup(),
    )


async def on_view(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action = await improvements.visible(identity, callback_data.action_id)
    await _show(screen, action, identity)


async def on_move(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    if callback_data.action is ImprovementAction.START:
        action = await improvements.start(identity, callback_data.action_id)
    else:
        action = await improvements.to_checking(identity, callback_data.action_id)
    screen.notify(_("Status: {status}").format(status=_(STATUS_LABELS[action.status])))
    await _show(screen, action, identity)


async def on_effect_button(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    await improvements.visible(identity, callback_data.action_id)
    evidence = await improvements.measure(callback_data.action_id)
    await state.set_state(Steps.effect)
    await state.update_data({"action_id": callback_data.action_id})
    lines = evidence_lines(evidence) or [_("No linked survey question to measure.")]
    await screen.show("\n".join([*lines, "", _prompt(Steps.effect)]))


async def on_effect(
    message: Message,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action_id = int(await state.get_value("action_id") or 0)
    action = await improvements.record_effect(identity, action_id, message.text or "")
    await state.clear()
    await _show(screen, action, identity)


async def on_close(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action, told = await improvements.close(identity, callback_data.action_id)
    screen.notify(
        _("Closed. {count} member(s) will be told what changed.").format(count=told), alert=True
    )
    await _show(screen, action, identity)


async def on_drop_button(
    _callback: CallbackQuery,
    callback_data: ImprovementCB,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
) -> None:
    if not identity.has(Role.OFFICER):
        raise PermissionDenied()
    await state.set_state(Steps.reason)
    await state.update_data({"action_id": callback_data.action_id})
    await screen.show(_prompt(Steps.reason))


async def on_reason(
    message: Message,
    identity: Identity,
    state: FSMContext,
    screen: Screen,
    improvements: ImprovementService,
) -> None:
    action_id = int(await state.get_value("action_id") or 0)
    action = await improvements.drop(identity, action_id, message.text or "")
    await state.clear()
    await _show(screen, action, identity)


def create_router() -> Router:
    router = Router(name="improvements")
    router.message.register(on_list, Command("actions"))
    router.callback_query.register(
        on_list, ImprovementCB.filter(F.action == ImprovementAction.LIST)
    )
    actions: dict[ImprovementAction, CallbackHandler] = {
        ImprovementAction.NEW: on_new,
        ImprovementAction.VIEW: on_view,
        ImprovementAction.START: on_move,
        ImprovementAction.CHECK: on_move,
        ImprovementAction.EFFECT: on_effect_button,
        ImprovementAction.CLOSE: on_close,
        ImprovementAction.DROP: on_drop_button,
    }
    register_actions(router, ImprovementCB, actions)
    for step in [*ORDER, Steps.effect, Steps.reason]:
        router.message.register(ask_for_text, step, WithoutText())
    for step in ORDER:
        router.message.register(on_step, step)
    router.message.register(on_effect, Steps.effect)
    router.message.register(on_reason, Steps.reason)
    return router
