"""Webhook mode end to end over real HTTP: `bot.app.run_bot` (what `unionvoice run` executes
with `[telegram] mode = "webhook"`) serves on loopback; the test plays Telegram, posting updates
with and without the secret, and a FakeBotAPI records what the bot sends."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.app import run_bot
from bot.config import Config, ConfigError, parse_config
from bot.webhook import SECRET_HEADER
from storage.database import create_database
from storage.uow import unit_of_work
from tests.conftest import make_config, seed_roster
from tests.e2e.test_polling import (
    CONSENT,
    NAME_PROMPT,
    ROSTER,
    ZHANG,
    callback_update,
    message_update,
    sent_to,
)
from tests.fakes.bot_api import FakeBotAPI

SECRET = "s3cret_Token-for-tests"
PATH = "/telegram/hook"
STOP_TIMEOUT = 15.0


pytestmark = pytest.mark.usefixtures("restore_logging")


def webhook_config(db_url: str, fake: FakeBotAPI, **telegram: Any) -> Config:
    raw: dict[str, Any] = make_config(db_url).model_dump()
    raw["telegram"].update(
        token=fake.token,
        api_base=fake.base_url,
        mode="webhook",
        webhook_url=f"https://bot.example.edu.cn{PATH}",
        webhook_secret=SECRET,
        webhook_port=0,  # the OS picks a free port; run_bot reports it
        **telegram,
    )
    return parse_config(raw)


@pytest.fixture
async def config(db_url: str, fake: FakeBotAPI) -> Config:
    database = create_database(db_url)
    try:
        await seed_roster(database, ROSTER)
    finally:
        await database.dispose()
    return webhook_config(db_url, fake)


class Instance:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self.http.post(f"{self.base}{PATH}", json=update, headers=headers) as reply:
            return reply.status

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base}/healthz") as reply:
            return reply.status, await reply.json()


@asynccontextmanager
async def webhook(config: Config) -> AsyncIterator[Instance]:
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_bot(config, stop=stop, handle_signals=False, on_listening=ready.set_result)
    )
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # start-up failed: raise it
    instance = Instance(await ready)
    try:
        yield instance
    finally:
        await instance.http.close()
        stop.set()
        await asyncio.wait_for(task, STOP_TIMEOUT)


def update_with_id(update_id: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, **message_update(ZHANG, text)}


async def test_webhook_is_registered_with_its_secret(fake: FakeBotAPI, config: Config) -> None:
    async with webhook(config):
        (call,) = fake.calls_of("setWebhook")
        assert call.params["url"] == f"https://bot.example.edu.cn{PATH}"
        assert call.params["secret_token"] == SECRET
        assert "message" in call.params["allowed_updates"]
        assert not fake.calls_of("deleteWebhook")  # the other instances keep serving it


async def test_requests_without_the_secret_are_refused(fake: FakeBotAPI, config: Config) -> None:
    async with webhook(config) as instance:
        assert await instance.post(update_with_id(1, "/start"), secret=None) == 401
        assert await instance.post(update_with_id(2, "/start"), secret="wrong") == 401
        assert await instance.post(update_with_id(3, "/start"), secret=SECRET[:-1]) == 401
        assert await instance.post(update_with_id(4, "/start"), secret="秘密") == 401
        assert not fake.calls_of("sendMessage")  # none of them was handled


async def test_update_is_handled_before_it_is_acknowledged(
    fake: FakeBotAPI, config: Config
) -> None:
    async with webhook(config) as instance:
        assert await instance.post(update_with_id(10, "/start")) == 200
        # The 200 came back after the reply was sent: nothing to wait for.
        assert [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG, "注册前请阅读")(c)]


async def test_a_redelivered_update_has_no_second_effect(fake: FakeBotAPI, config: Config) -> None:
    async with webhook(config) as instance:
        assert await instance.post(update_with_id(20, "/start")) == 200
        assert await instance.post(update_with_id(20, "/start")) == 200  # Telegram retried
        replies = [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG)(c)]
        assert len(replies) == 1


async def test_an_outage_answers_503_so_that_telegram_retries(
    fake: FakeBotAPI,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The database going away mid-update: no 200, so Telegram delivers the update again. An
    expected outage is one warning, not a traceback per update (the soak found the logs of a
    5-second PostgreSQL restart buried under hundreds of them)."""
    from members.service import MembershipService

    identify = MembershipService.identify
    outage = {"left": 1}

    async def flaky_identify(self: MembershipService, telegram_id: int) -> Any:
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionResetError("database connection lost")
        return await identify(self, telegram_id)

    monkeypatch.setattr(MembershipService, "identify", flaky_identify)
    async with webhook(config) as instance:
        assert await instance.post(update_with_id(30, "/start")) == 503
        assert not fake.calls_of("sendMessage")
        assert await instance.post(update_with_id(30, "/start")) == 200  # the retry works
        assert [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG)(c)]
    logged = capsys.readouterr().err
    assert "left to Telegram's retry" in logged
    # Neither aiogram ("Cause exception …") nor aiohttp ("Error handling request") logs the
    # outage with a traceback. (Scheduled jobs may log their own errors; not this test's.)
    assert "Cause exception while process update" not in logged
    assert "Error handling request" not in logged


async def test_not_an_update_is_a_bad_request(fake: FakeBotAPI, config: Config) -> None:
    async with (
        webhook(config) as instance,
        instance.http.post(
            f"{instance.base}{PATH}", data=b"{not json", headers={SECRET_HEADER: SECRET}
        ) as reply,
    ):
        assert reply.status == 400


async def test_health_checks_the_database(fake: FakeBotAPI, config: Config) -> None:
    async with webhook(config) as instance:
        status, body = await instance.health()
        assert status == 200
        assert body["ok"] is True and body["database"] == "ok"
        for _ in range(100):  # the election may take a round trip to the database
            if body["leader"]:
                break
            await asyncio.sleep(0.05)
            _, body = await instance.health()
        assert body["leader"] is True  # alone, it runs the scheduled jobs


@pytest.mark.parametrize("with_redis", [False, True], ids=["state-in-postgresql", "state-in-redis"])
async def test_a_conversation_moves_between_instances(
    with_redis: bool, request: pytest.FixtureRequest, pg_url: str, fake: FakeBotAPI
) -> None:
    """Behind a load balancer each step may reach another instance: the conversation state
    is shared (PostgreSQL uncached, or Redis), so registration completes all the same."""
    database = create_database(pg_url)
    try:
        await seed_roster(database, ROSTER)
    finally:
        await database.dispose()
    extra = {"fsm": {"redis_url": request.getfixturevalue("redis_url")}} if with_redis else {}
    config = parse_config({**webhook_config(pg_url, fake).model_dump(), **extra})
    updates = itertools.count(100)

    async with webhook(config) as first, webhook(config) as second:
        assert await first.post(update_with_id(next(updates), "/start")) == 200
        (notice,) = [c.result for c in fake.calls_of("sendMessage") if sent_to(ZHANG)(c)]
        press = {"update_id": next(updates), **callback_update(ZHANG, notice, CONSENT)}
        assert await second.post(press) == 200
        assert await first.post(update_with_id(next(updates), "T1001")) == 200
        assert [c for c in fake.calls_of("sendMessage") if sent_to(ZHANG, NAME_PROMPT)(c)]
        assert await second.post(update_with_id(next(updates), "张三")) == 200

    database = create_database(pg_url)
    try:
        async with unit_of_work(database.sessions) as repos:
            member = await repos.members.get_by_employee_id("T1001")
        assert member is not None and member.telegram_id == ZHANG["id"]
    finally:
        await database.dispose()


async def test_a_taken_port_is_one_clear_error(fake: FakeBotAPI, config: Config) -> None:
    async with webhook(config) as instance:
        port = int(instance.base.rsplit(":", 1)[1])
        taken = parse_config(
            {**config.model_dump(), "telegram": {**config.telegram.model_dump(),
                                                 "webhook_port": port}}
        )  # fmt: skip
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await run_bot(taken, stop=asyncio.Event(), handle_signals=False)
