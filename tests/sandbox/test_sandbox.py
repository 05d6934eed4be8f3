"""`unionvoice sandbox --demo` as the page sees it over its WebSocket (no browser), and the
CLI's way into it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import cli
from bot.sandbox import SandboxOptions
from sandbox.personas import PERSONAS, persona
from tests.sandbox.conftest import RunningSandbox

Event = dict[str, Any]
OFFICER = persona("officer").telegram_id
MEMBER_B = persona("member_b").telegram_id
PRINCIPAL = persona("principal").telegram_id


class Page:
    """The page's side of the WebSocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.seen: list[Event] = []

    async def act(self, chat_id: int, **action: Any) -> None:
        await self.socket.send_json({**action, "chat_id": chat_id, "language": "en"})

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10) -> Event:
        for event in self.seen:
            if predicate(event):
                return event
        async with asyncio.timeout(timeout):
            while True:
                event = await self.socket.receive_json()
                self.seen.append(event)
                if predicate(event):
                    return event


def text_of(event: Event) -> str:
    def flatten(nodes: list[Any]) -> str:
        return "".join(n if isinstance(n, str) else flatten(n["children"]) for n in nodes)

    message = event.get("message") or {}
    return flatten(message.get("text") or message.get("caption") or [])


def bot_says(chat_id: int, part: str) -> Callable[[Event], bool]:
    return lambda e: (
        e["type"] in ("message", "edit") and e["chat_id"] == chat_id and part in text_of(e)
    )


async def test_first_screen_has_the_personas_and_the_invitations(
    running_sandbox: RunningSandbox,
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(running_sandbox.url + "/ws") as ws:
        page = Page(ws)
        hello = await page.wait_for(lambda e: e["type"] == "hello")
        assert [p["key"] for p in hello["personas"]] == [p.key for p in PERSONAS]
        assert hello["bot_username"] == "unionvoice_sandbox_bot"
        # The survey --demo opened: the real outbox sender invites registered personas (in
        # the default language: they have not chosen one). It may have done so already.
        history = hello["chats"].get(str(MEMBER_B), {"messages": []})["messages"]
        sent = [{"type": "message", "chat_id": MEMBER_B, "message": m} for m in history]
        page.seen.extend(sent)
        invitation = await page.wait_for(bot_says(MEMBER_B, "工会服务满意度小调查"))
        assert invitation["message"]["inline"], "the invitation has a Start button"

        # The demo letters: the principal persona is told, and reads them in its inbox.
        history = hello["chats"].get(str(PRINCIPAL), {"messages": []})["messages"]
        page.seen.extend({"type": "message", "chat_id": PRINCIPAL, "message": m} for m in history)
        await page.wait_for(bot_says(PRINCIPAL, "院长信箱"))
        await page.act(PRINCIPAL, type="send", text="/inbox")
        inbox = await page.wait_for(bot_says(PRINCIPAL, "2 letters"))
        assert inbox["message"]["inline"]


async def test_an_officer_imports_a_survey_file_through_the_page(
    running_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    source = (Path(__file__).parents[2] / "docs/examples/service-2026q4.toml").read_bytes()
    async with aiohttp.ClientSession() as http, http.ws_connect(running_sandbox.url + "/ws") as ws:
        page = Page(ws)
        await page.wait_for(lambda e: e["type"] == "hello")
        form = aiohttp.FormData()
        form.add_field("chat_id", str(OFFICER))
        form.add_field("language", "en")
        form.add_field("file", source, filename="service-2026q4.toml")
        async with http.post(running_sandbox.url + "/upload", data=form) as response:
            assert response.status == 200
        await page.wait_for(
            lambda e: (
                e["type"] == "message"
                and (e["message"].get("document") or {}).get("name") == "service-2026q4.toml"
            )
        )
        await page.wait_for(bot_says(OFFICER, "imported"))


async def test_another_site_cannot_drive_the_sandbox(running_sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                running_sandbox.url + "/ws", headers={"Origin": "https://evil.example"}
            )
        assert refused.value.status == 403


async def test_a_rebound_host_name_is_refused_on_page_api_and_websocket(
    running_sandbox: RunningSandbox,
) -> None:
    """DNS rebinding: evil.example re-pointed at 127.0.0.1 sends its own name as Host and a
    matching Origin. Same-origin by a Host comparison, refused by the loopback-only rule."""
    port = running_sandbox.url.rsplit(":", 1)[1]
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/static/app.js", "/bot1:x/getMe", "/files/1"):
            async with http.get(running_sandbox.url + path, headers=evil) as page:
                assert page.status == 403, path
            async with http.get(running_sandbox.url + path, headers={"Host": evil["Host"]}) as page:
                assert page.status == 403, path
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(running_sandbox.url + "/ws", headers=evil)
        assert refused.value.status == 403
        # The loopback names work, with or without an Origin of their own.
        for name in ("127.0.0.1", "localhost"):
            loopback = {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}
            async with http.get(running_sandbox.url + "/", headers=loopback) as page:
                assert page.status == 200
            async with http.get(running_sandbox.url + "/bot1:x/getMe", headers=loopback) as api:
                assert api.status == 401  # reached the Bot API: the token is wrong
            async with http.ws_connect(running_sandbox.url + "/ws", headers=loopback) as ws:
                assert (await ws.receive_json())["type"] == "hello"


async def test_a_forged_button_press_goes_nowhere(running_sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(running_sandbox.url + "/ws") as ws:
        page = Page(ws)
        await page.wait_for(lambda e: e["type"] == "hello")
        await page.act(OFFICER, type="press", message_id=1, data="ar:1:1")
        await page.wait_for(lambda e: e["type"] == "stale")


def test_run_without_a_token_starts_the_sandbox_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[SandboxOptions] = []

    async def fake_run_sandbox(config: object, options: SandboxOptions, **_: object) -> None:
        started.append(options)

    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no config.toml: all defaults, no token
    monkeypatch.setattr("bot.sandbox.run_sandbox", fake_run_sandbox)
    assert cli.main(["run"]) == cli.EXIT_OK
    assert started == [SandboxOptions(demo=True)]
    assert "BOT_TOKEN=" in capsys.readouterr().err


def test_sandbox_command_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[SandboxOptions] = []

    async def fake_run_sandbox(config: object, options: SandboxOptions, **_: object) -> None:
        started.append(options)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.sandbox.run_sandbox", fake_run_sandbox)
    code = cli.main(["sandbox", "--port", "9000", "--demo", "--database", "keep.db"])
    assert code == cli.EXIT_OK
    assert started == [SandboxOptions(port=9000, demo=True, database=Path("keep.db"))]


def test_page_assets_ship_with_the_package() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["sandbox"]
    static = {p.name for p in (root / "sandbox" / "static").iterdir()}
    assert {"index.html", "app.js", "style.css"} <= static
    assert "static/*" in patterns and "demo-survey.toml" in patterns
