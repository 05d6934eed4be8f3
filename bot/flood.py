"""Answers in chat share Telegram's bot-wide limits with the outbox.

Telegram counts every message the bot sends against one budget (about 30/s) and, after a 429,
refuses *all* of them until `retry_after` has passed. The outbox paces itself and pauses on a
429; without this middleware a handler's reply knew of neither: under a broadcast, replies
pushed the bot over the limit, were refused, kept sending during the flood wait, and the
person was told "something went wrong" for a step that had been saved.

`FloodControl` is an aiogram request middleware on the bot's session. For every send that is
not the outbox's own (the outbox retries and records its messages itself): wait out a flood
wait the outbox, another reply or another instance saw, count the send in the outbox's
per-second window (so the outbox slows down while people are being answered), and retry a
reply Telegram refused with a 429, a 5xx or a non-JSON error page, a few times, instead of
losing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import ClientDecodeError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    CopyMessage,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)

from outbox.pacing import Pacer

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

    from outbox.budget import SendBudget

logger = logging.getLogger(__name__)
SENDS = (SendMessage, SendPhoto, SendDocument, SendMediaGroup, CopyMessage)
ATTEMPTS = 3
# Telegram's bot-wide limit, less one: the outbox keeps below its own (lower) rate, and a
# reply waits only if the last second is this full (answering people comes first).
REPLY_WINDOW_LIMIT = 29
# A reply is worth waiting this long for; a longer flood wait fails it (the error router
# then tells the person, once the wait is over).
MAX_WAIT = 10.0
# How often a reply asks the other instances whether Telegram told one of them to wait. A
# reply is at most this late in learning it (Telegram is lenient for requests already on the
# way), and a busy instance asks a few times a second, not once per reply.
SHARED_WAIT_CHECK = 0.2
# A shared store that does not answer within this is asked again only after SHARED_WAIT_RETRY:
# a reply must not hang on Redis.
SHARED_WAIT_TIMEOUT = 0.5
SHARED_WAIT_RETRY = 2.0

_outbox_send: ContextVar[bool] = ContextVar("outbox_send", default=False)


@contextmanager
def outbox_send() -> Iterator[None]:
    """Marks the requests made inside as the outbox's: paced and retried by the outbox."""
    token = _outbox_send.set(True)
    try:
        yield
    finally:
        _outbox_send.reset(token)


class FloodControl(BaseRequestMiddleware):
    def __init__(
        self,
        pacer: Pacer,
        budget: SendBudget | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._pacer = pacer
        self._budget = budget
        self._clock = clock or pacer.clock
        self._sleep = sleep
        self._shared_check_at = -float("inf")  # when to ask the other instances next
        self._shared_check = asyncio.Lock()
        self._shared_failing = False

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        if not isinstance(method, SENDS) or _outbox_send.get():
            return await make_request(bot, method)
        for attempt in range(1, ATTEMPTS + 1):
            await self._learn_shared_wait()
            # Look again after every wait: the replies that found the same second full wake
            # together, and only as many as it has room for may go.
            while (
                wait := max(
                    self._pacer.paused_until - self._clock(),
                    self._pacer.window_wait(REPLY_WINDOW_LIMIT),
                )
            ) > 0:
                if wait > MAX_WAIT:
                    raise TelegramRetryAfter(  # type: ignore[misc]  # aiogram leaves its method type unbound
                        method=method, message="flood wait", retry_after=int(wait)
                    )
                await self._sleep(wait)
            self._pacer.record_send()
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self._pacer.pause(exc.retry_after)  # the outbox waits too
                await self._pause_others(exc.retry_after)
                if attempt == ATTEMPTS or exc.retry_after > MAX_WAIT:
                    raise
                logger.warning("reply: flood wait of %s s; sending it after", exc.retry_after)
            except (TelegramServerError, ClientDecodeError) as exc:
                if attempt == ATTEMPTS:
                    raise
                logger.warning("reply: Telegram answered %s; retrying", type(exc).__name__)
                await self._sleep(0.5 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _learn_shared_wait(self) -> None:
        """A flood wait another instance was told of holds here too (found by the soak: an
        instance whose handlers had waited for the database sent two replies in the middle of
        a flood wait the other instance's outbox had been told of)."""
        if self._budget is None or self._clock() < self._shared_check_at:
            return
        async with self._shared_check:  # the replies that arrive together ask once
            if self._clock() < self._shared_check_at:
                return
            try:
                left = await asyncio.wait_for(self._budget.paused_for(), SHARED_WAIT_TIMEOUT)
            except Exception:  # no shared store: this instance learns from its own 429
                if not self._shared_failing:
                    logger.warning("reply: could not read the shared flood wait", exc_info=True)
                self._shared_failing = True
                self._shared_check_at = self._clock() + SHARED_WAIT_RETRY
                return
            self._shared_failing = False
            self._shared_check_at = self._clock() + SHARED_WAIT_CHECK
        if left > 0:
            self._pacer.pause(left)

    async def _pause_others(self, seconds: float) -> None:
        if self._budget is None:
            return
        try:
            await self._budget.pause(seconds)  # the other instances' outboxes
        except Exception:  # the flood wait still holds here; the budget is best effort
            logger.warning("reply: could not share the flood wait", exc_info=True)
