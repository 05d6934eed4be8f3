"""The screen helper on its own: editing falls back to a new message when Telegram refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, User

from handlers.screen import Screen
from tests.fakes.session import BOT_USER, RecordingSession

USER = User(id=7, is_bot=False, first_name="A")


class RefusingEdits(RecordingSession):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if isinstance(method, EditMessageText):
            self.requests.append(method)
            raise TelegramBadRequest(method=method, message=self.reason)
        return await super().make_request(bot, method, timeout)


def press(bot: Bot) -> CallbackQuery:
    message = Message(
        message_id=5,
        date=datetime.now(UTC),
        chat=Chat(id=USER.id, type="private"),
        from_user=BOT_USER,
        text="old",
    ).as_(bot)
    return CallbackQuery(id="1", from_user=USER, chat_instance="c", data="x", message=message).as_(
        bot
    )


async def test_a_message_that_cannot_be_edited_is_sent_anew() -> None:
    session = RefusingEdits("Bad Request: message to edit not found")
    bot = Bot("42:TEST", session=session)
    screen = Screen.of(bot, press(bot))
    await screen.edit("new text")
    sent = [r for r in session.requests if isinstance(r, SendMessage)]
    assert [r.text for r in sent] == ["new text"]


async def test_an_unchanged_message_is_left_alone() -> None:
    session = RefusingEdits("Bad Request: message is not modified")
    bot = Bot("42:TEST", session=session)
    screen = Screen.of(bot, press(bot))
    await screen.edit("old")
    assert not [r for r in session.requests if isinstance(r, SendMessage)]


async def test_the_press_is_answered_once_even_after_an_early_acknowledgement() -> None:
    session = RecordingSession()
    bot = Bot("42:TEST", session=session)
    screen = Screen.of(bot, press(bot))
    await screen.acknowledge("Preparing…")
    await screen.answer_callback()  # what the middleware does after the handler
    [answer] = [r for r in session.requests if isinstance(r, AnswerCallbackQuery)]
    assert answer.text == "Preparing…"


async def test_long_text_goes_in_parts_with_the_buttons_on_the_last() -> None:
    session = RecordingSession()
    bot = Bot("42:TEST", session=session)
    screen = Screen(bot, USER.id)
    await screen.show_long("\n".join(["x" * 3000] * 3))
    sent = [r for r in session.requests if isinstance(r, SendMessage)]
    assert len(sent) == 3 and all(len(r.text) <= 4096 for r in sent)
