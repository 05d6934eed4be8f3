"""End to end over real HTTP: `bot.app.run_polling` (the code `unionvoice run` executes) long-polls
a local fake Bot API through aiogram's own AiohttpSession, selected by `[telegram] api_base`.

Updates are plain JSON dicts as Telegram sends them; every answer is read back from the
fake server. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from bot.app import run_polling
from bot.config import Config, parse_config
from handlers.callbacks import ConsentCB
from storage.database import create_database
from tests.conftest import TEST_MAILBOX_KEY, make_config, seed_roster
from tests.fakes.bot_api import FakeBotAPI, RecordedCall

ZHANG = {"id": 1001, "is_bot": False, "first_name": "张三", "language_code": "zh-hans"}
LI = {"id": 1003, "is_bot": False, "first_name": "李四", "language_code": "zh-hans"}
ALICE = {"id": 1002, "is_bot": False, "first_name": "Alice", "language_code": "en"}
ROSTER = [
    ("T1001", "张三", "机电学院", ""),
    ("T1002", "Alice Smith", "外语学院", "member"),
]
CONSENT = ConsentCB(accept=True).pack()  # "c1:1"
NAME_PROMPT = "会员名册上的姓名"  # not just "姓名": the privacy notice mentions that too
STOP_TIMEOUT = 5.0  # a clean stop takes well under a second

_incoming_ids = itertools.count(1)


# ---------------------------------------------------------------------------- updates
def message_update(user: dict[str, Any], text: str) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    return {
        "message": {
            "message_id": next(_incoming_ids), "date": int(time.time()),
            "chat": chat, "from": user, "text": text,
        }
    }  # fmt: skip


def callback_update(user: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
    """A button press on `message`, the bot's own message as the fake returned it."""
    return {
        "callback_query": {
            "id": f"cq-{next(_incoming_ids)}", "from": user, "message": message,
            "chat_instance": f"ci-{user['id']}", "data": data,
        }
    }  # fmt: skip


def sent_to(user: dict[str, Any], *fragments: str) -> Callable[[RecordedCall], bool]:
    """A sendMessage to `user` that the fake answered, whose text contains every fragment."""

    def match(call: RecordedCall) -> bool:
        text = call.params.get("text", "")
        return (
            call.params.get("chat_id") == user["id"]
            and call.result is not None
            and all(f in text for f in fragments)
        )

    return match


async def bot_says(fake: FakeBotAPI, user: dict[str, Any], *fragments: str) -> dict[str, Any]:
    """Wait for the bot's message to `user` containing `fragments`; the Message it created."""
    (call,) = await fake.wait_for("sendMessage", predicate=sent_to(user, *fragments))
    return call.result


async def main_menu(fake: FakeBotAPI, user: dict[str, Any]) -> dict[str, Any]:
    """Wait for the bot's main menu (a message with the surveys button) to `user`."""

    def is_menu(call: RecordedCall) -> bool:
        markup = call.params.get("reply_markup") or {}
        texts = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
        return sent_to(user)(call) and any("问卷" in t or "Surveys" in t for t in texts)

    (call,) = await fake.wait_for("sendMessage", predicate=is_menu)
    return call.result


async def answered(fake: FakeBotAPI, update_id: int) -> None:
    """Wait until polling confirmed `update_id` (a later getUpdates offset), as Telegram sees it."""

    def confirms(call: RecordedCall) -> bool:
        offset = call.params.get("offset")
        return isinstance(offset, int) and offset > update_id

    await fake.wait_for("getUpdates", predicate=confirms)


# ---------------------------------------------------------------------------- fixtures
pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
async def config(db_url: str, fake: FakeBotAPI) -> Config:
    raw: dict[str, Any] = make_config(db_url).model_dump()
    raw["telegram"].update(token=fake.token, api_base=fake.base_url, polling_timeout=1)
    database = create_database(db_url)  # the template is migrated already
    try:
        await seed_roster(database, ROSTER)
    finally:
        await database.dispose()
    return parse_config(raw)


@asynccontextmanager
async def polling(config: Config) -> AsyncIterator[asyncio.Task[None]]:
    """The production entry point as a task; stopped (and awaited) on the way out."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_polling(config, stop=stop, handle_signals=False))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_TIMEOUT)  # re-raises whatever killed polling


# ---------------------------------------------------------------------------- tests
async def test_registration_over_long_polling(fake: FakeBotAPI, config: Config) -> None:
    async with polling(config) as task:
        fake.push_update(message_update(ZHANG, "/start"))
        notice = await bot_says(fake, ZHANG, "注册前请阅读")
        buttons = [b for row in notice["reply_markup"]["inline_keyboard"] for b in row]
        assert CONSENT in [b["callback_data"] for b in buttons]

        fake.push_update(callback_update(ZHANG, notice, CONSENT))
        (press,) = await fake.wait_for("answerCallbackQuery")
        assert press.params["callback_query_id"].startswith("cq-")
        await bot_says(fake, ZHANG, "请发送您的工号")

        fake.push_update(message_update(ZHANG, "T1001"))
        await bot_says(fake, ZHANG, NAME_PROMPT)
        last = fake.push_update(message_update(ZHANG, "张三"))
        welcome = await bot_says(fake, ZHANG, "欢迎您，张三")
        assert "机电学院" in welcome["text"]
        menu = await main_menu(fake, ZHANG)
        assert "📋 问卷" in [b["text"] for b in menu["reply_markup"]["inline_keyboard"][0]]
        await answered(fake, last)
        assert not task.done()

    # The command menu: one per language plus the default, all for private chats.
    commands = {
        call.params.get("language_code"): call.params for call in fake.calls_of("setMyCommands")
    }
    assert set(commands) == {"zh", "en", None}
    assert all(p["scope"] == {"type": "all_private_chats"} for p in commands.values())
    described = {lang: [c["description"] for c in p["commands"]] for lang, p in commands.items()}
    assert [c["command"] for c in commands["zh"]["commands"]] == [
        "menu",
        "start",
        "mailbox",
        "receipt",
        "mydata",
        "lang",
        "help",
    ]
    assert "主菜单" in described["zh"] and "Main menu" in described["en"]
    assert described["zh"] != described["en"]
    assert described[None] == described["zh"]  # the default is the union's default locale

    # Real long polling: every getUpdates waits server-side, for the update types in use.
    polls = fake.calls_of("getUpdates")
    assert polls and all(call.params["timeout"] == 1 for call in polls)
    assert {"message", "callback_query"} <= set(polls[0].params["allowed_updates"])
    assert fake.calls_of("deleteWebhook")[0].params.get("drop_pending_updates") is False


async def test_registration_survives_a_restart(fake: FakeBotAPI, config: Config) -> None:
    async with polling(config):
        fake.push_update(message_update(ZHANG, "/start"))
        notice = await bot_says(fake, ZHANG, "注册前请阅读")
        fake.push_update(callback_update(ZHANG, notice, CONSENT))
        await bot_says(fake, ZHANG, "请发送您的工号")
        last = fake.push_update(message_update(ZHANG, "T1001"))
        await bot_says(fake, ZHANG, NAME_PROMPT)
        await answered(fake, last)  # otherwise Telegram would deliver it again after restart
    # polling() awaited the task: the first run is completely gone.
    first_run_calls = len(fake.calls)

    async with polling(config):  # a new process, as far as the bot can tell
        fake.push_update(message_update(ZHANG, "张三"))
        welcome = await bot_says(fake, ZHANG, "欢迎您，张三")
        assert "机电学院" in welcome["text"]

    assert [c.method for c in fake.calls[first_run_calls:]].count("getMe") >= 1, "restarted"
    asked_for_id = [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG, "请发送您的工号")(c)]
    assert len(asked_for_id) == 1, "the conversation continued; it did not start over"


@pytest.mark.parametrize(
    ("status", "description", "every_time"),
    [
        (500, "Internal Server Error", False),
        (403, "Forbidden: bot was blocked by the user", True),
    ],
)
async def test_a_telegram_error_in_a_reply_does_not_stop_polling(
    fake: FakeBotAPI, config: Config, status: int, description: str, every_time: bool
) -> None:
    failed: list[dict[str, Any]] = []

    async def responder(method: str, params: dict[str, Any]) -> web.Response | None:
        to_li = method == "sendMessage" and params.get("chat_id") == LI["id"]
        if to_li and (every_time or not failed):
            failed.append(params)
            body = {"ok": False, "error_code": status, "description": description}
            return web.json_response(body, status=status)
        return None

    fake.responder = responder
    async with polling(config) as task:
        fake.push_update(message_update(LI, "/start"))
        await fake.wait_for("sendMessage", predicate=lambda c: c.params["chat_id"] == LI["id"])
        assert "注册前请阅读" in failed[0]["text"]
        if not every_time:  # a passing server error: the reply is sent again (bot/flood.py)
            await bot_says(fake, LI, "注册前请阅读")

        fake.push_update(message_update(ALICE, "/start"))
        await bot_says(fake, ALICE, "Before you register")
        assert not task.done()


async def test_stopping_lets_updates_in_flight_finish(fake: FakeBotAPI, config: Config) -> None:
    """Stop while a handler waits for Telegram: run_polling returns only after it is done."""
    stopped = asyncio.Event()

    class PollingStopped(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "Polling stopped":
                stopped.set()

    async def responder(method: str, params: dict[str, Any]) -> web.Response | None:
        if method == "answerCallbackQuery":
            await asyncio.wait_for(stopped.wait(), STOP_TIMEOUT)  # answer once polling is over
        return None

    watcher, dispatcher_log = PollingStopped(), logging.getLogger("aiogram.dispatcher")
    dispatcher_log.addHandler(watcher)
    old_level = dispatcher_log.level
    dispatcher_log.setLevel(logging.INFO)
    try:
        async with polling(config):
            fake.push_update(message_update(ZHANG, "/start"))
            notice = await bot_says(fake, ZHANG, "注册前请阅读")
            fake.responder = responder
            fake.push_update(callback_update(ZHANG, notice, CONSENT))
            (press,) = await fake.wait_for("answerCallbackQuery")
            assert press.result is None  # held: the consent handler is waiting for it
            # leaving the block stops polling with that handler still in flight
    finally:
        dispatcher_log.removeHandler(watcher)
        dispatcher_log.setLevel(old_level)

    assert stopped.is_set() and press.result is True
    # The handler went on after polling had stopped, and run_polling waited for it to finish.
    prompts = [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG, "请发送您的工号")(c)]
    assert len(prompts) == 1


async def test_two_quick_messages_from_one_user_are_handled_in_order(
    fake: FakeBotAPI, config: Config
) -> None:
    async with polling(config):
        fake.push_update(message_update(ZHANG, "/start"))
        notice = await bot_says(fake, ZHANG, "注册前请阅读")
        fake.push_update(callback_update(ZHANG, notice, CONSENT))
        await bot_says(fake, ZHANG, "请发送您的工号")
        before = len(fake.calls_of("sendMessage"))
        # Pushed in one go, so both arrive in the same getUpdates batch.
        fake.push_update(message_update(ZHANG, "T1001"))
        fake.push_update(message_update(ZHANG, "张三"))
        replies = await fake.wait_for(
            "sendMessage", count=before + 2, predicate=lambda c: c.result is not None
        )
    texts = [call.params["text"] for call in replies[before : before + 2]]
    assert NAME_PROMPT in texts[0]
    assert "欢迎您，张三" in texts[1]


async def test_start_warns_once_about_a_key_file_other_users_can_read(
    fake: FakeBotAPI, config: Config, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`unionvoice run` with the mailbox key in a 0644 file (the umask's default) says so."""
    key_file = tmp_path / "unionvoice-mailbox.key"
    key_file.write_text(TEST_MAILBOX_KEY + "\n", encoding="ascii")
    key_file.chmod(0o644)
    raw = config.model_dump()
    raw["mailbox"].update(secret_key=None, key_file=str(key_file))
    async with polling(parse_config(raw)):
        await fake.wait_for("getUpdates")
    warnings = [line for line in capsys.readouterr().err.splitlines() if "readable by" in line]
    assert len(warnings) == 1, warnings
    assert "WARNING" in warnings[0] and str(key_file) in warnings[0]
    assert f"chmod 600 {key_file}" in warnings[0]

    key_file.chmod(0o600)  # fixed: started again, nothing to say about it
    async with polling(parse_config(raw)):
        await fake.wait_for("getUpdates")
    assert str(key_file) not in capsys.readouterr().err


async def test_telegram_down_for_a_reply_is_a_warning_and_polling_goes_on(
    fake: FakeBotAPI, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the soak (bench/soak): during a minute of 502s from Telegram (half of them a
    proxy's HTML page) every reply was logged as a bug with its traceback, and the bot tried to
    tell the person "something went wrong" through the same failing API."""
    refused: list[str] = []

    async def down(method: str, params: dict[str, Any]) -> web.Response | None:
        if method == "sendMessage" and params.get("chat_id") == LI["id"]:
            refused.append(params["text"])
            return web.Response(status=502, text="<html>502</html>", content_type="text/html")
        return None

    fake.responder = down
    async with polling(config) as task:
        fake.push_update(message_update(LI, "/start"))
        fake.push_update(message_update(ALICE, "/start"))
        await bot_says(fake, ALICE, "Before you register")
        logged = ""
        for _ in range(100):  # the reply to Li is retried (bot/flood.py), then given up
            logged += capsys.readouterr().err
            if "Telegram unavailable" in logged:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no warning about Telegram:\n{logged}")
        assert not task.done()
    assert len(refused) == 3 and all("注册前请阅读" in text for text in refused)
    logged += capsys.readouterr().err
    assert "handler failed" not in logged, "not logged as a bug"
    assert "could not tell the user" not in logged, "nobody tried to tell Li through it"
