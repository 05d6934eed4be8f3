"""The error router tells the person what went wrong; when Telegram answers that message with
a proxy's HTML error page, that is Telegram being away, not a new error. Found by the soak
(bench/soak): during a minute of 502s the refusal escaped the error router ("Cause exception
while process update", and in webhook mode a 500 to Telegram for an update that was handled)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n
from aiohttp import web

from common.errors import PermissionDenied
from handlers.errors import on_error
from tests.fakes.bot_api import FakeBotAPI

LI = {"id": 7101, "is_bot": False, "first_name": "Li", "language_code": "zh-hans"}


def message_update() -> Update:
    chat = {"id": LI["id"], "type": "private", "first_name": "Li"}
    message = {"message_id": 1, "date": 0, "chat": chat, "from": LI, "text": "/mydata"}
    return Update.model_validate({"update_id": 5, "message": message})


@pytest.mark.parametrize("html", [True, False])
async def test_telling_the_person_through_a_failing_telegram_is_a_warning(
    i18n: I18n, caplog: pytest.LogCaptureFixture, html: bool
) -> None:
    async def down(method: str, _params: dict[str, Any]) -> web.Response | None:
        if method != "sendMessage":
            return None
        if html:
            return web.Response(status=502, text="<html>502</html>", content_type="text/html")
        body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return web.json_response(body, status=502)

    async with FakeBotAPI() as fake, fake.make_bot() as bot:
        fake.responder = down
        event = ErrorEvent(update=message_update(), exception=PermissionDenied())
        await on_error(event, bot, i18n)  # nothing escapes

    assert [c.params["text"] for c in fake.calls_of("sendMessage")] == ["您没有权限执行此操作。"]
    assert "could not tell the user about an error" in caplog.text
