"""Webhook mode: an aiohttp server Telegram posts updates to, and a health check.

An update is handled *before* the 200 goes back (aiogram's handle_in_background=False): an
instance that dies mid-update never answered, so Telegram delivers the update again (to any
instance) and the processed-update marker, written in the same transaction as the update's
effects, makes the redelivery harmless. A failure answers 500, which Telegram also retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.config import ConfigError
from handlers.errors import is_outage
from storage.database import Database

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# Seconds requests still being handled get to finish when the instance stops.
SHUTDOWN_TIMEOUT = 10.0


class CheckedRequestHandler(SimpleRequestHandler):
    """Handles before answering; refuses any request without the exact secret (401)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str, **data: Any) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret, **data)
        self._secret = secret.encode()

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:  # noqa: ARG002 (aiogram's)
        # Constant time, and on bytes: a non-ASCII header must be a refusal, not a TypeError.
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return secrets.compare_digest(given, self._secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            logger.warning("webhook: request without the right secret refused")
            return web.Response(status=401, text="Unauthorized")
        try:
            return await super().handle(request)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            # pydantic's ValidationError is a ValueError too: not an update, do not retry.
            logger.warning("webhook: not a valid update (%s)", type(exc).__name__)
            return web.Response(status=400, text="Bad Request")
        except Exception as exc:
            if not is_outage(exc):
                raise
            # The database or Redis is away: Telegram delivers the update again. The error
            # router said so at WARNING; a traceback per update would only bury real errors.
            return web.Response(status=503, text="Service Unavailable")

    async def close(self) -> None:
        """The app owns the bot session and closes it after the handlers have finished."""


HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


def database_health(database: Database, extra: HealthCheck | None = None) -> HealthCheck:
    async def check() -> dict[str, Any]:
        async with database.engine.connect() as connection:
            await connection.scalar(text("SELECT 1"))
        return {"database": "ok", **(await extra() if extra else {})}

    return check


class OutageFilter(logging.Filter):
    """aiogram logs every exception that leaves a webhook update with its traceback. An outage
    of the database or Redis is expected there: the update is left to Telegram's retry."""

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        return exception is None or not is_outage(exception)


def create_webhook_app(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    path: str,
    secret: str,
    health: HealthCheck,
    status: Callable[[], dict[str, Any]] = dict,
) -> web.Application:
    app = web.Application()
    CheckedRequestHandler(dispatcher, bot, secret).register(app, path=path)
    event_log = logging.getLogger("aiogram.event")
    if not any(isinstance(f, OutageFilter) for f in event_log.filters):
        event_log.addFilter(OutageFilter())

    async def healthz(_request: web.Request) -> web.Response:
        try:
            checks = await asyncio.wait_for(health(), timeout=5)
        except Exception as exc:  # the proxy takes this instance out of rotation
            logger.warning("health check failed: %s", type(exc).__name__)
            return web.json_response(
                {"ok": False, "error": type(exc).__name__, **status()}, status=503
            )
        return web.json_response({"ok": True, **checks, **status()})

    app.router.add_get(HEALTH_PATH, healthz)
    return app


async def serve(
    app: web.Application,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until `stop`; then stop accepting and let requests in flight finish."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise ConfigError(
                f"[telegram] webhook_listen/webhook_port: cannot listen on {host}:{port} "
                f"({exc.strerror or exc})"
            ) from None
        bound_port = runner.addresses[0][1]
        logger.info("webhook: listening on %s:%d", host, bound_port)
        if on_ready is not None:
            on_ready(bound_port)
        await stop.wait()
    finally:
        await runner.cleanup()
