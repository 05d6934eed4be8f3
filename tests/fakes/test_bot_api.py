"""The fake Bot API, exercised through aiogram's real HTTP session."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram import Dispatcher, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiohttp import web

from tests.fakes.bot_api import FakeBotAPI


@pytest.mark.asyncio
async def test_get_me(fake: FakeBotAPI) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    async with fake.make_bot() as bot:
        me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (
        42, True, "unionvoice_test_bot", "UnionVoice",
    )  # fmt: skip
    assert [c.method for c in fake.calls] == ["getMe"]


@pytest.mark.asyncio
async def test_send_message_records_decoded_params(fake: FakeBotAPI) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="vote:1")]]
    )
    async with fake.make_bot() as bot:
        first = await bot.send_message(1001, "42", reply_markup=keyboard)
        second = await bot.send_message(1001, "again")
        other_chat = await bot.send_message(2002, "hi")

    (call, *_) = await fake.wait_for("sendMessage", count=3)
    assert call.params["chat_id"] == 1001
    assert call.params["text"] == "42"  # free text is never JSON-decoded
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "vote:1"}]]
    }
    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == 42
    assert first.text == "42"
    # compare dumps: parsed objects carry a bound bot, so == on the models is False
    assert first.reply_markup is not None
    assert first.reply_markup.model_dump() == keyboard.model_dump()


@pytest.mark.asyncio
async def test_send_document_upload_records_file_metadata(fake: FakeBotAPI) -> None:
    payload = b"x" * 3000
    async with fake.make_bot() as bot:
        sent = await bot.send_document(
            -100500, BufferedInputFile(payload, filename="report.xlsx"), caption="Weekly"
        )
    (call,) = fake.calls_of("sendDocument")
    assert call.params["document"] == {"filename": "report.xlsx", "size": 3000}
    assert call.params["caption"] == "Weekly"
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.file_size) == ("report.xlsx", 3000)
    assert sent.chat.type == "supergroup"


@pytest.mark.asyncio
async def test_edit_and_true_methods(fake: FakeBotAPI) -> None:
    async with fake.make_bot() as bot:
        edited = await bot.edit_message_text(text="new", chat_id=7, message_id=5)
        assert await bot.delete_message(7, 5) is True
        assert await bot.answer_callback_query("123") is True
    assert isinstance(edited, Message)
    assert (edited.message_id, edited.text) == (5, "new")
    assert fake.calls_of("answerCallbackQuery")[0].params["callback_query_id"] == "123"


@pytest.mark.asyncio
async def test_get_updates_offset_limit_and_timeout(fake: FakeBotAPI) -> None:
    ids = [fake.push_message(f"m{i}") for i in range(3)]
    assert ids == [1, 2, 3]
    async with fake.make_bot() as bot:
        assert [u.update_id for u in await bot.get_updates(limit=2)] == [1, 2]
        # offset confirms (and drops) everything below it
        assert [u.update_id for u in await bot.get_updates(offset=3)] == [3]
        assert [u.update_id for u in await bot.get_updates()] == [3]
        started = time.monotonic()
        assert await bot.get_updates(offset=4, timeout=1) == []
        assert 0.9 < time.monotonic() - started < 2

        # an update pushed during a long poll is returned straight away
        asyncio.get_running_loop().call_later(0.1, fake.push_message, "late")
        started = time.monotonic()
        (update,) = await bot.get_updates(offset=4, timeout=10)
        assert time.monotonic() - started < 1
        assert update.message is not None and update.message.text == "late"


@pytest.mark.asyncio
async def test_stop_releases_pending_long_poll() -> None:
    fake = FakeBotAPI()
    await fake.start()
    async with fake.make_bot() as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_for("getUpdates")
        started = time.monotonic()
        await fake.stop()
        assert await poll == []
        assert time.monotonic() - started < 1


@pytest.mark.asyncio
async def test_polling_roundtrip_with_dispatcher(fake: FakeBotAPI) -> None:
    started = time.monotonic()
    router = Router()
    replied = asyncio.Event()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")
        replied.set()

    dp = Dispatcher()
    dp.include_router(router)
    bot = fake.make_bot()  # start_polling closes the session on shutdown
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        fake.push_message("hello", user_id=555)
        (call,) = await fake.wait_for("sendMessage")
        # The handler runs as a detached task aiogram never awaits on shutdown: let it finish
        # before stop_polling closes the session under its in-flight request.
        await asyncio.wait_for(replied.wait(), 2)
    finally:
        await dp.stop_polling()
        await polling
    assert call.params == {"chat_id": 555, "text": "echo: hello"}
    assert fake.calls[0].method == "getMe"
    assert time.monotonic() - started < 2.5


@pytest.mark.asyncio
async def test_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    async with fake.make_bot(token="42:WRONG") as bot:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    assert fake.calls == []


@pytest.mark.asyncio
async def test_unknown_method_and_bad_request(fake: FakeBotAPI) -> None:
    async with fake.make_bot() as bot:
        with pytest.raises(TelegramNotFound, match="method not found"):
            await bot.get_chat(1)
        with pytest.raises(TelegramBadRequest, match="text is empty"):
            await bot.send_message(1, "")


@pytest.mark.asyncio
async def test_responder_can_override(fake: FakeBotAPI) -> None:
    async def rate_limit(method: str, params: dict[str, Any]) -> web.Response | None:
        if method != "sendMessage":
            return None
        body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3}}  # fmt: skip
        return web.json_response(body, status=429)

    fake.responder = rate_limit
    async with fake.make_bot() as bot:
        with pytest.raises(TelegramRetryAfter) as err:
            await bot.send_message(1, "hi")
        assert err.value.retry_after == 3
        assert (await bot.get_me()).username == "unionvoice_test_bot"
    assert [c.method for c in fake.calls] == ["sendMessage", "getMe"]


@pytest.mark.asyncio
async def test_wait_for_timeout_dumps_calls(fake: FakeBotAPI) -> None:
    async with fake.make_bot() as bot:
        await bot.send_message(1, "only this")
    with pytest.raises(AssertionError, match=r"(?s)expected 1 sendPhoto.*sendMessage.*only this"):
        await fake.wait_for("sendPhoto", timeout=0.1)
