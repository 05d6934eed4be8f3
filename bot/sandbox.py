"""`unionvoice sandbox`: the real bot, long-polling a local Bot API that a web page plays.

The wiring lives here, in the composition root; the package `sandbox` is the fake Telegram
(Bot API, chats, web page, personas) and imports nothing of the bot.

Same code path as `unionvoice run` (bot.app.run_polling: migrations, Dispatcher, outbox
sender, scheduler, drain): only `[telegram] api_base` points at the sandbox server and the
token is made up for the run, so no Telegram account or network is involved.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bot.config import Config
from sandbox.botapi import SandboxBotAPI
from sandbox.chats import ChatStore
from sandbox.personas import PERSONAS, Persona
from sandbox.web import create_app

logger = logging.getLogger(__name__)
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
SANDBOX_BOT_ID = 6_999_999_999
SANDBOX_BOT_USERNAME = "unionvoice_sandbox_bot"


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port (tests)
    database: Path | None = None  # None: a fresh file in a temporary folder
    demo: bool = False
    personas: tuple[Persona, ...] = PERSONAS


def sandbox_config(config: Config, api_base: str, token: str, database_url: str) -> Config:
    """The user's settings, with Telegram replaced by the sandbox and its own database."""
    telegram = config.telegram.model_copy(
        update={
            "token": SecretStr(token),
            "api_base": api_base,
            "bot_username": SANDBOX_BOT_USERNAME,
        }
    )
    database = config.database.model_copy(update={"url": database_url})
    # The sandbox's own mailbox key, next to its database (never the real installation's).
    key_file = Path(database_url.removeprefix("sqlite+aiosqlite:///")).with_suffix(".key")
    mailbox = config.mailbox.model_copy(update={"secret_key": None, "key_file": str(key_file)})
    return config.model_copy(
        update={"telegram": telegram, "database": database, "mailbox": mailbox}
    )


def database_url(path: Path | None) -> str:
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="unionvoice-sandbox-")) / "sandbox.db"
    return f"sqlite+aiosqlite:///{path}"


async def run_sandbox(
    config: Config,
    options: SandboxOptions,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the page and run the bot against it until SIGINT/SIGTERM (or `stop`)."""
    from bot.app import run_polling  # aiogram: only once the sandbox is really started

    token = f"{SANDBOX_BOT_ID}:{secrets.token_urlsafe(24)}"
    api = SandboxBotAPI(ChatStore(), options.personas, token=token, username=SANDBOX_BOT_USERNAME)
    # A short shutdown_timeout: open pages and the last long poll are closed, not awaited.
    app = create_app(api, options.personas, host=options.host)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://{options.host}:{port}"
        config = sandbox_config(config, base, token, database_url(options.database))
        await prepare_database(config, options)
        if on_ready is not None:
            on_ready(base)
        try:
            await run_polling(config, stop=stop, handle_signals=handle_signals)
        finally:
            api.close()  # lets the last getUpdates return at once
    finally:
        await runner.cleanup()


async def prepare_database(config: Config, options: SandboxOptions) -> None:
    """Migrate, put the personas on the roster, and with --demo the sample data."""
    from bot.sandbox_demo import seed_demo, seed_personas
    from bot.services import Services
    from storage import migrate
    from storage.database import create_database

    database = create_database(config.database.url)
    services = Services(config)
    try:
        await migrate.upgrade(database.engine)
        await seed_personas(database, services, options.personas)
        if options.demo:
            await seed_demo(database, services, options.personas)
    finally:
        await database.dispose()
