"""Replies in chat obey Telegram's flood wait and share the outbox's pace (bot/flood.py).

Found by the soak (bench/soak): during a broadcast, handlers' replies took the bot over 30
messages/s, were refused with 429, kept being sent during the flood wait, and the person was
told "something went wrong" for a step that had been saved. A proxy's HTML 502 page made the
outbox drop a digest as a "render error".

Real aiogram session against FakeBotAPI; the limiter and the middleware share a manual clock,
and the middleware's sleeps move it, so nothing here waits for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.factory import create_renderers
from bot.flood import FloodControl, outbox_send
from bot.telegram_transport import TelegramTransport
from outbox.model import ClaimedMessage, Kind, Outcome
from outbox.pacing import Pacer
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import ManualClock, TelegramLimits, max_in_window


class SpyBudget:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def reserve(self) -> float:
        return 0.0

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    async def paused_for(self) -> float:
        return 0.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def pacer(clock: ManualClock) -> Pacer:
    return Pacer(25, clock=clock)


@pytest.fixture
async def bot(fake: FakeBotAPI, clock: ManualClock, pacer: Pacer) -> AsyncIterator[Bot]:
    budget = SpyBudget()

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    async with fake.make_bot() as bot:
        bot.session.middleware(FloodControl(pacer, budget, sleep=sleep))
        bot.budget = budget  # type: ignore[attr-defined]
        yield bot


async def test_a_reply_refused_in_a_flood_wait_is_sent_after_it_and_never_during_it(
    fake: FakeBotAPI, bot: Bot, clock: ManualClock, pacer: Pacer
) -> None:
    limits = TelegramLimits(global_per_second=1, retry_after=2, clock=clock)
    fake.responder = limits
    await bot.send_message(1, "the outbox's notice, a moment ago")  # fills this second
    await bot.send_message(2, "your answer was saved")  # 429: the flood wait starts

    assert limits.rejected["429"] == 1
    assert limits.delivered_to[2] == 1, "the reply arrived after all"
    assert limits.violations == [], "nothing was sent while Telegram said to wait"
    assert bot.budget.pauses == [2], "the other instances' outboxes were told"  # type: ignore[attr-defined]
    assert pacer.paused_until == pytest.approx(1002.0), "and this one's outbox waits too"


async def test_a_reply_waits_for_a_flood_wait_the_outbox_saw(
    fake: FakeBotAPI, bot: Bot, clock: ManualClock, pacer: Pacer
) -> None:
    limits = TelegramLimits(clock=clock)
    limits.penalty_until = clock.now + 3  # Telegram's flood wait, told to the outbox
    fake.responder = limits
    pacer.pause(3)
    await bot.send_message(2, "your answer was saved")
    assert limits.violations == [] and limits.delivered_to[2] == 1


async def test_a_reply_answered_with_an_html_error_page_is_sent_again(
    fake: FakeBotAPI, bot: Bot
) -> None:
    pages: list[str] = []

    async def proxy(method: str, params: dict[str, Any]) -> web.Response | None:
        if method == "sendMessage" and not pages:
            pages.append(params["text"])
            return web.Response(status=502, text="<html>502 Bad Gateway</html>",
                                content_type="text/html")  # fmt: skip
        return None

    fake.responder = proxy
    sent = await bot.send_message(3, "your letter was sent")
    assert sent.text == "your letter was sent" and pages == ["your letter was sent"]
    assert len(fake.calls_of("sendMessage")) == 2


async def test_the_outbox_sends_are_left_to_the_outbox(
    fake: FakeBotAPI, bot: Bot, clock: ManualClock
) -> None:
    limits = TelegramLimits(global_per_second=1, retry_after=2, clock=clock)
    fake.responder = limits
    await bot.send_message(1, "first")
    with outbox_send(), pytest.raises(TelegramRetryAfter):
        await bot.send_message(2, "a broadcast message")  # the worker records the 429 itself
    assert len(fake.calls_of("sendMessage")) == 2


async def test_an_html_error_page_is_a_temporary_failure_for_the_outbox(
    fake: FakeBotAPI, i18n: I18n
) -> None:
    async def proxy(method: str, params: dict[str, Any]) -> web.Response | None:
        return web.Response(status=502, text="<html>502</html>", content_type="text/html")

    fake.responder = proxy
    async with fake.make_bot() as bot:
        transport = TelegramTransport(bot, i18n, create_renderers())
        message = ClaimedMessage(1, 5, "zh", "text", {"text": "周报"}, Kind.TEXT, 0)
        result = await transport.send(message)
    assert result.outcome is Outcome.TEMPORARY, "retried later, not dropped as a render error"


async def test_replies_that_waited_for_a_full_second_do_not_all_go_at_once(
    clock: ManualClock, pacer: Pacer
) -> None:
    """Found by the soak: with a thousand members answering, replies that found the last second
    full all slept until it cleared and then all went, over 30 in one second; each time
    Telegram's 429 paused every send of the bot (91 times in a 3-minute run)."""

    async def sleep(seconds: float) -> None:
        until = clock.now + seconds
        await asyncio.sleep(0)  # the other replies run (and wait) meanwhile
        clock.now = max(clock.now, until)

    sent: list[float] = []

    async def telegram(_bot: Any, _method: Any) -> bool:
        sent.append(clock.now)  # when the request reaches Telegram
        return True

    flood = FloodControl(pacer, SpyBudget(), sleep=sleep)
    replies = [SendMessage(chat_id=chat, text="saved") for chat in range(1, 91)]
    await asyncio.gather(*(flood(telegram, None, reply) for reply in replies))  # type: ignore[arg-type]

    assert len(sent) == 90, "every reply was sent"
    assert max_in_window(sent) <= 29, "never more in a second than Telegram's limit allows"
