"""Button presses through the real Dispatcher: answered once, after what the handler showed; a
refusal or a domain error keeps its alert; a button on a message Telegram no longer has still
gets its answer in a new message."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import Chat, InaccessibleMessage, Update

from handlers.callbacks import LanguageCB, MenuAction, MenuCB, ProposalAction, ProposalCB
from tests.conftest import register, seed_roster
from tests.harness import BotDriver, Outcome, TgUser

MEMBER, STRANGER = TgUser(id=8801), TgUser(id=8802)


def answers(outcome: Outcome) -> list[AnswerCallbackQuery]:
    return [r for r in outcome.requests if isinstance(r, AnswerCallbackQuery)]


async def test_a_press_is_answered_once_after_what_it_shows(app: BotDriver) -> None:
    outcome = await app.press(STRANGER, MenuCB(action=MenuAction.HELP))
    kinds = [type(r) for r in outcome.requests]
    assert kinds == [SendMessage, AnswerCallbackQuery], "shown first, then the one answer"
    assert answers(outcome)[0].text is None and not answers(outcome)[0].show_alert


async def test_a_handlers_notice_is_the_one_answer(app: BotDriver) -> None:
    outcome = await app.press(STRANGER, LanguageCB(locale="xx"))
    [answer] = answers(outcome)
    assert answer.show_alert and answer.text == "此按钮已失效。"


async def test_a_domain_error_keeps_the_error_routers_alert(app: BotDriver, database) -> None:
    await seed_roster(database, [("M1", "会员甲", "外语学院", "")])
    await register(app, MEMBER, "M1", "会员甲")
    # Someone else's draft or a forged id: the service refuses with a DomainError.
    outcome = await app.press(MEMBER, ProposalCB(action=ProposalAction.VIEW, proposal_id=999))
    [answer] = answers(outcome)  # not a silent answer first, which would swallow the alert
    assert answer.show_alert and answer.text
    assert not [r for r in outcome.requests if isinstance(r, SendMessage)]


async def test_guards_refuse_with_one_alert(app: BotDriver, database) -> None:
    unregistered = await app.press(STRANGER, ProposalCB(action=ProposalAction.MINE, proposal_id=0))
    [answer] = answers(unregistered)
    assert answer.show_alert and answer.text == "请先注册：发送 /start。"

    await seed_roster(database, [("M1", "会员甲", "外语学院", "")])
    await register(app, MEMBER, "M1", "会员甲")
    not_an_officer = await app.press(MEMBER, MenuCB(action=MenuAction.APPROVALS))
    [answer] = answers(not_an_officer)
    assert answer.show_alert and answer.text == "您没有权限执行此操作。"
    assert not [r for r in not_an_officer.requests if isinstance(r, SendMessage)]


async def test_a_button_on_an_inaccessible_message_answers_in_a_new_one(app: BotDriver) -> None:
    update = app.callback_update(STRANGER, LanguageCB(locale="en"))
    assert update.callback_query is not None
    old = InaccessibleMessage(chat=Chat(id=STRANGER.id, type="private"), message_id=1, date=0)
    query = update.callback_query.model_copy(update={"message": old})
    outcome = await app.feed(Update(update_id=update.update_id, callback_query=query))
    assert not [r for r in outcome.requests if isinstance(r, EditMessageText)]
    [sent] = outcome.sent_to(STRANGER.id)
    assert sent.text == "Language set to English."
    assert len(answers(outcome)) == 1


async def test_an_accessible_message_is_edited_in_place(app: BotDriver) -> None:
    outcome = await app.press(STRANGER, LanguageCB(locale="en"))
    [edited] = [r for r in outcome.requests if isinstance(r, EditMessageText)]
    assert edited.text == "Language set to English."
    assert not outcome.sent_to(STRANGER.id)
