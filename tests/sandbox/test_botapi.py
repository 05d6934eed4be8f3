"""The sandbox's Bot API, driven by aiogram's real HTTP session: what the page gets to draw,
and the refusals Telegram would give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import web

from sandbox.botapi import SandboxBotAPI
from sandbox.chats import ChatStore
from sandbox.personas import PERSONAS, persona
from sandbox.web import create_app

TOKEN = "6999999999:sandbox-test"
MEMBER = persona("member_a").telegram_id


@dataclass
class Sandbox:
    api: SandboxBotAPI
    bot: Bot
    base: str
    events: asyncio.Queue[dict[str, Any]]

    def drain(self) -> list[dict[str, Any]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    api = SandboxBotAPI(ChatStore(), PERSONAS, token=TOKEN)
    runner = web.AppRunner(create_app(api, PERSONAS), shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    session = AiohttpSession(api=TelegramAPIServer.from_base(base))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        yield Sandbox(api, bot, base, api.chats.subscribe())
    finally:
        api.close()
        await bot.session.close()
        await runner.cleanup()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=label)] for label in labels
        ]
    )


async def test_html_message_with_buttons_reaches_the_page_as_safe_nodes(sandbox: Sandbox) -> None:
    sent = await sandbox.bot.send_message(
        MEMBER, "<b>Hi</b> &lt;you&gt;", reply_markup=keyboard("ok")
    )
    assert sent.chat.id == MEMBER and sent.reply_markup is not None
    (event,) = sandbox.drain()
    assert event["type"] == "message" and event["chat_id"] == MEMBER
    view = event["message"]
    assert view["text"] == [{"tag": "b", "children": ["Hi"]}, " <you>"]
    assert view["inline"] == [[{"text": "ok", "data": "ok"}]]
    assert view["out"] is False


async def test_refused_html_is_a_400_and_shown_on_the_page(sandbox: Sandbox) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await sandbox.bot.send_message(MEMBER, "Score <5 and >3")
    (event,) = sandbox.drain()
    assert event["type"] == "problem" and "Unsupported start tag" in event["text"]


async def test_unknown_chat_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await sandbox.bot.send_message(123, "hello")


async def test_edits_replace_in_place_and_an_edit_that_changes_nothing_is_refused(
    sandbox: Sandbox,
) -> None:
    sent = await sandbox.bot.send_message(MEMBER, "Question 1", reply_markup=keyboard("a", "b"))
    await sandbox.bot.edit_message_text(
        "Question 2", chat_id=MEMBER, message_id=sent.message_id, reply_markup=keyboard("c")
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await sandbox.bot.edit_message_text(
            "Question 2", chat_id=MEMBER, message_id=sent.message_id, reply_markup=keyboard("c")
        )
    await sandbox.bot.edit_message_reply_markup(chat_id=MEMBER, message_id=sent.message_id)
    events = [e for e in sandbox.drain() if e["type"] == "edit"]
    assert [e["message"]["text"] for e in events] == [["Question 2"], ["Question 2"]]
    assert [e["message"]["inline"] for e in events] == [[[{"text": "c", "data": "c"}]], None]
    assert all(e["message"]["id"] == sent.message_id and e["message"]["edited"] for e in events)


async def test_a_press_becomes_a_callback_query_answered_once_with_a_toast(
    sandbox: Sandbox,
) -> None:
    sent = await sandbox.bot.send_message(MEMBER, "Pick", reply_markup=keyboard("yes"))
    assert sandbox.api.user_press(MEMBER, sent.message_id, "forged") is None
    assert sandbox.api.user_press(MEMBER, sent.message_id, "yes", "en") is not None
    (update,) = await sandbox.bot.get_updates(timeout=1)
    query = update.callback_query
    assert query is not None and query.data == "yes" and query.from_user.id == MEMBER
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.from_user.language_code == "en"
    await sandbox.bot.answer_callback_query(query.id, "Saved", show_alert=True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await sandbox.bot.answer_callback_query(query.id)
    toasts = [e for e in sandbox.drain() if e["type"] == "toast"]
    assert toasts == [{"type": "toast", "chat_id": MEMBER, "text": "Saved", "alert": True}]


async def test_typed_text_is_an_update_and_a_line_in_the_chat(sandbox: Sandbox) -> None:
    sandbox.api.user_text(MEMBER, "/start p12", "zh-hans")
    (update,) = await sandbox.bot.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "/start p12"
    assert update.message.entities and update.message.entities[0].type == "bot_command"
    (event,) = sandbox.drain()
    assert event["message"]["out"] is True and event["message"]["text"] == ["/start p12"]
    # Confirmed by the next offset, like Telegram.
    assert await sandbox.bot.get_updates(offset=update.update_id + 1, timeout=0) == []


async def test_documents_and_photos_are_served_to_the_page_and_resent_by_file_id(
    sandbox: Sandbox,
) -> None:
    sent = await sandbox.bot.send_document(
        MEMBER, BufferedInputFile(b"PK\x03\x04xlsx", "结果.xlsx"), caption="<b>Results</b>"
    )
    assert sent.document is not None
    again = await sandbox.bot.send_document(MEMBER, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    photo = await sandbox.bot.send_photo(MEMBER, BufferedInputFile(b"\x89PNG fake", "chart.png"))
    events = sandbox.drain()
    document = events[0]["message"]["document"]
    assert document["name"] == "结果.xlsx" and events[0]["message"]["caption"]
    assert photo.photo and events[2]["message"]["photo"].startswith("/files/")
    async with aiohttp.ClientSession() as http:
        async with http.get(sandbox.base + document["url"]) as response:
            assert await response.read() == b"PK\x03\x04xlsx"
            assert response.headers["Content-Disposition"].startswith("attachment;")
        async with http.get(sandbox.base + events[2]["message"]["photo"]) as response:
            assert response.headers["Content-Disposition"].startswith("inline;")


async def test_a_file_the_person_sends_can_be_downloaded_by_the_bot(sandbox: Sandbox) -> None:
    sandbox.api.user_file(MEMBER, "survey.toml", "application/toml", b'id = "x"\n')
    (update,) = await sandbox.bot.get_updates(timeout=1)
    assert update.message is not None and update.message.document is not None
    downloaded = await sandbox.bot.download(update.message.document.file_id)
    assert downloaded is not None and downloaded.read() == b'id = "x"\n'


async def test_reply_keyboard_is_shown_until_removed(sandbox: Sandbox) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Yes"), KeyboardButton(text="No")]], one_time_keyboard=True
    )
    await sandbox.bot.send_message(MEMBER, "Sure?", reply_markup=markup)
    await sandbox.bot.send_message(MEMBER, "Done", reply_markup=ReplyKeyboardRemove())
    keyboards = [e["keyboard"] for e in sandbox.drain() if e["type"] == "keyboard"]
    assert keyboards == [{"rows": [["Yes", "No"]], "one_time": True, "placeholder": None}, None]


async def test_a_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.base}/bot1:wrong/getMe") as response,
    ):
        assert response.status == 401


async def test_the_bot_api_answers_only_to_loopback_host_names(sandbox: Sandbox) -> None:
    """With the right token, a rebound name (evil.example → 127.0.0.1) still gets nothing."""
    port = sandbox.base.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        for host, status in ((f"evil.example:{port}", 403), (f"localhost:{port}", 200)):
            async with http.post(
                f"{sandbox.base}/bot{TOKEN}/getMe", headers={"Host": host}
            ) as response:
                assert response.status == status, host
