"""Opening an improvement action from its source, one question per step."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from common.errors import N_, DomainError, PermissionDenied
from handlers.callbacks import ImprovementCB
from handlers.improvements.states import FIELDS, KINDS, ORDER, Steps
from handlers.improvements.views import card_keyboard, card_text, step_prompt
from handlers.screen import Screen
from improvements.model import ActionDTO, Link, LinkKind
from improvements.service import ActionDraft, ImprovementService
from mailboxes.service import MailboxService
from members.dto import Identity
from members.roles import Role
from proposals.service import ProposalService
from storage.uow import Repositories
from surveys.service import SurveyService


async def show_action(screen: Screen, action: ActionDTO, identity: Identity) -> None:
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
    await screen.show(intro + "\n\n" + step_prompt(Steps.problem))


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
        await message.answer(step_prompt(ORDER[index + 1]))
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
    await show_action(screen, action, identity)
