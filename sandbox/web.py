"""The sandbox web server: the chat page, its WebSocket, files, and the local Bot API.

One aiohttp application on one loopback port serves both sides: the page at `/`, and the
Bot API the real bot long-polls at `/bot<token>/…`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web

from sandbox.bot_api_core import MAX_UPLOAD
from sandbox.botapi import SandboxBotAPI
from sandbox.chats import ChatStore
from sandbox.personas import Persona

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = Path(__file__).resolve().parent / "static"
logger = logging.getLogger(__name__)
# The page's own limits: a typed message and a file a person attaches.
USER_TEXT_LIMIT = 4096
USER_FILE_LIMIT = 20 * 1024 * 1024  # what a bot may download from Telegram
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
LANGUAGES = {"zh": "zh-hans", "en": "en"}  # the page's language → the persona's language_code

_API: web.AppKey[SandboxBotAPI] = web.AppKey("api", SandboxBotAPI)
_CHATS: web.AppKey[ChatStore] = web.AppKey("chats", ChatStore)
_PERSONAS: web.AppKey[tuple[Persona, ...]] = web.AppKey("personas", tuple)
_SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets", set)


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_HOST_NAMES: web.AppKey[frozenset[str]] = web.AppKey("host_names", frozenset)


def create_app(
    api: SandboxBotAPI, personas: tuple[Persona, ...], *, host: str = "127.0.0.1"
) -> web.Application:
    """`host`: the address served (--host); its name is accepted besides the loopback ones."""
    app = web.Application(client_max_size=MAX_UPLOAD, middlewares=[_known_host_only])
    name = f"[{host}]" if ":" in host and not host.startswith("[") else host
    app[_HOST_NAMES] = frozenset({*LOOPBACK_NAMES, name.lower()})
    app[_API], app[_CHATS], app[_PERSONAS] = api, api.chats, personas
    app[_SOCKETS] = set()
    app.router.add_get("/", _index)
    app.router.add_static("/static", STATIC)
    app.router.add_get("/ws", _websocket)
    app.router.add_post("/upload", _upload)
    app.router.add_get("/files/{file_id}", _file)
    app.router.add_get("/fonts/sans-sc.otf", _chinese_font)
    api.add_routes(app)
    app.on_shutdown.append(_close_sockets)
    return app


async def _index(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


def _language(value: object) -> str:
    return LANGUAGES.get(str(value), LANGUAGES["zh"])


def _persona_chat(request: web.Request, value: object) -> int | None:
    try:
        chat_id = int(str(value))
    except ValueError:
        return None
    return chat_id if any(p.telegram_id == chat_id for p in request.app[_PERSONAS]) else None


def _served_hosts(request: web.Request) -> frozenset[str]:
    """`name:port` for the names the sandbox answers to, on the port this connection reached."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = sockname[1] if sockname else None
    names = request.app[_HOST_NAMES]
    served = {f"{name}:{port}" for name in names}
    return frozenset(served | names if port == 80 else served)


@web.middleware
async def _known_host_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request (page, files, WebSocket, Bot API) names a loopback host or the configured
    one, in Host and in Origin. Comparing Origin with the request's own Host is not enough: a
    site whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) is then "same origin"."""
    served = _served_hosts(request)
    if request.headers.get("Host", "").lower() not in served:
        raise web.HTTPForbidden(text="unknown host name refused")
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        # Another site open in the same browser must not drive the sandbox (WebSocket and
        # form posts are not covered by CORS).
        if parts.scheme != "http" or parts.netloc.lower() not in served:
            raise web.HTTPForbidden(text="cross-origin request refused")
    return await handler(request)


async def _websocket(request: web.Request) -> web.StreamResponse:
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    chats, api = request.app[_CHATS], request.app[_API]
    events = chats.subscribe()
    request.app[_SOCKETS].add(socket)
    try:
        await socket.send_json(
            {
                "type": "hello",
                "bot_username": api.me["username"],
                "personas": [p.public() for p in request.app[_PERSONAS]],
                "chats": chats.snapshot(),
            }
        )
        sender = asyncio.create_task(_forward(events, socket))
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    await _on_page_action(request, socket, frame.data)
        finally:
            sender.cancel()
            with suppress(asyncio.CancelledError):
                await sender
    finally:
        chats.unsubscribe(events)
        request.app[_SOCKETS].discard(socket)
    return socket


async def _forward(events: asyncio.Queue[dict[str, Any]], socket: web.WebSocketResponse) -> None:
    while not socket.closed:
        event = await events.get()
        await socket.send_json(event)


async def _on_page_action(request: web.Request, socket: web.WebSocketResponse, data: str) -> None:
    try:
        action = json.loads(data)
    except ValueError:
        return
    if not isinstance(action, dict):
        return
    api = request.app[_API]
    chat_id = _persona_chat(request, action.get("chat_id"))
    if chat_id is None:
        return
    language = _language(action.get("language"))
    if action.get("type") == "send":
        text = str(action.get("text") or "").strip()
        if text:
            api.user_text(chat_id, text[:USER_TEXT_LIMIT], language)
    elif action.get("type") == "press":
        message_id, button = action.get("message_id"), action.get("data")
        if not isinstance(message_id, int) or not isinstance(button, str):
            return
        if api.user_press(chat_id, message_id, button, language) is None:
            # Telegram clients only offer buttons that exist; an old page may not know.
            await socket.send_json({"type": "stale", "chat_id": chat_id})


async def _upload(request: web.Request) -> web.StreamResponse:
    """A person attaches a file (a survey definition, a photo for a proposal …)."""
    form = await request.post()
    chat_id = _persona_chat(request, form.get("chat_id"))
    upload = form.get("file")
    if chat_id is None or not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest(text="chat_id and file are required")
    content = upload.file.read(USER_FILE_LIMIT + 1)
    if len(content) > USER_FILE_LIMIT:
        raise web.HTTPRequestEntityTooLarge(max_size=USER_FILE_LIMIT, actual_size=len(content))
    mime = upload.content_type or "application/octet-stream"
    name = Path(upload.filename or "file").name
    request.app[_API].user_file(chat_id, name, mime, content, _language(form.get("language")))
    return web.json_response({"ok": True})


async def _file(request: web.Request) -> web.StreamResponse:
    stored = request.app[_API].file(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    # Only plain images open in place: an SVG or HTML file could run script on this origin.
    disposition = "inline" if stored.mime_type in INLINE_TYPES else "attachment"
    return web.Response(
        body=stored.content,
        content_type=stored.mime_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(stored.name, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _chinese_font(_request: web.Request) -> web.StreamResponse:
    """The Chinese font the charts use, for browsers on machines without one (a bare Linux)."""
    from pylopdf_fonts_zh_cn import sans_path

    return web.FileResponse(sans_path(), headers={"Cache-Control": "max-age=86400"})


async def _close_sockets(app: web.Application) -> None:
    sockets = app[_SOCKETS]
    for socket in list(sockets):
        await socket.close()
