"""A sender in its own process, for the kill-and-restart test.

    python -m tests.outbox.sender_process <db_url> <api_base>

The production wiring in miniature: Database, a Bot whose AiohttpSession talks to `api_base`
(a FakeBotAPI in the test process), TelegramTransport and OutboxWorker.run(), forever. The test
ends it with SIGKILL, on purpose with no chance to clean up; SIGTERM/SIGINT stop it politely.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.factory import create_renderers
from bot.telegram_transport import TelegramTransport
from handlers.i18n import create_i18n
from outbox.worker import OutboxWorker, SenderSettings
from storage.database import create_database

TOKEN = "42:TEST"
SETTINGS = SenderSettings(rate_per_second=25, max_in_flight=8)
READY = "sender ready"  # printed on stdout once the worker is about to start


async def main(db_url: str, api_base: str) -> None:
    database = create_database(db_url)
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(TOKEN, session=session)
    transport = TelegramTransport(bot, create_i18n("zh"), create_renderers())
    worker = OutboxWorker(database, transport, SETTINGS)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(READY, flush=True)
    try:
        await worker.run(stop)
    finally:
        await bot.session.close()
        await database.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.outbox.sender_process <db_url> <api_base>")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
