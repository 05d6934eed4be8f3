"""Two webhook instances (`unionvoice run` processes) on one PostgreSQL database, as behind a
reverse proxy: the scheduled jobs run on exactly one, a broadcast is sent once at one shared
pace, and when an instance is killed with SIGKILL the other takes over its jobs and its
claimed messages. The test process plays Telegram: a FakeBotAPI with Telegram's limits, and
updates posted to the instances with the webhook secret."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text

from bot.webhook import SECRET_HEADER
from members.service import CONSENT_VERSION
from outbox.model import Notification, Status
from storage.database import Database, create_database
from storage.models import OutboxMessage
from storage.uow import unit_of_work
from surveys.service import SurveyService
from tests.conftest import TEST_MAILBOX_KEY, seed_roster
from tests.e2e.test_polling import message_update, sent_to
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import TelegramLimits

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-instances-secret"
PATH = "/tg"
BROADCAST = 150
FIRST_CHAT = 50_001
KILL_AFTER = 40  # accepted broadcast sends
MAX_IN_FLIGHT = 8
CLAIM_LEASE = 6.0  # seconds; production default is 60 (a loaded CI machine renews late)
MEMBERS = [
    ("S1", "赵一", "机电学院", "", 7201),
    ("S2", "钱二", "外语学院", "", 7202),
    ("O1", "孙官", "工会办公室", "officer", 7203),  # gets the weekly digest
]
OFFICER_CHAT = 7203
SCHEDULED_SURVEY = """
id = "scheduled"
title = "定时问卷"
opens_at = 2020-01-01T09:00:00+08:00

[[questions]]
id = "q"
type = "scale"
text = "满意吗？"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Instance:
    """One `python -m bot.cli run` process in webhook mode."""

    def __init__(self, name: str, tmp_path: Path, db_url: str, api_base: str, redis: str) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / f"{name}.toml"
        self.log = tmp_path / f"{name}.log"
        redis_line = f'redis_url = "{redis}"' if redis else ""
        self.config.write_text(
            f"""
[telegram]
token = "42:TEST"
api_base = "{api_base}"
bot_username = "unionvoice_test_bot"
mode = "webhook"
webhook_url = "https://bot.example.edu.cn{PATH}"
webhook_secret = "{SECRET}"
webhook_port = {self.port}

[database]
url = "{db_url}"

[mailbox]
secret_key = "{TEST_MAILBOX_KEY}"

[fsm]
{redis_line}

[outbox]
rate_per_second = 25
max_in_flight = {MAX_IN_FLIGHT}
claim_lease = {CLAIM_LEASE}
""",
            encoding="utf-8",
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--config", str(self.config), "run",
                cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, "BOT_TOKEN": ""},
            )  # fmt: skip

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-4000:]}")

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with http.get(f"{self.base}/healthz") as reply:
                return await reply.json() if reply.status == 200 else None
        except aiohttp.ClientError:
            return None

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when a machine dies."""
        if self.process is not None and self.process.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def reap(self) -> None:
        if self.process is not None:
            self.kill()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 30)


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    what: str,
    instances: list[Instance],
    timeout: float = 90,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        for instance in instances:
            instance.check_alive()
        if loop.time() > deadline:
            logs = "\n".join(f"--- {i.name}\n{i.log.read_text()[-3000:]}" for i in instances)
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")
        await asyncio.sleep(0.05)


async def queued_or_sending(database: Database) -> int:
    async with database.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(OutboxMessage.status.in_([Status.QUEUED, Status.SENDING]))
        )
    return int(count or 0)


async def chats_in(database: Database, status: Status) -> set[int]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.status == status)
        )
        return set(found)


async def prepare(database: Database) -> None:
    """Registered members (one an officer) and a survey whose opening time has passed: the
    leader's first sweep opens it and invites them; its digest catch-up sends the officer the
    latest week's digest. Both are scheduled jobs."""
    await seed_roster(database, [(e, n, d, roles) for e, n, d, roles, _ in MEMBERS])
    async with unit_of_work(database.sessions) as repos:
        for employee_id, *_, telegram_id in MEMBERS:
            member = await repos.members.get_by_employee_id(employee_id)
            assert member is not None
            await repos.members.link_telegram(
                member.id, telegram_id, locale="zh", consent_version=CONSENT_VERSION, now=_now()
            )
        await SurveyService(repos).import_definition(SCHEDULED_SURVEY, "scheduled.toml")
        await repos.commit()


async def invitations_per_member(database: Database) -> dict[int, int]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT chat_id, count(*) FROM outbox_messages "
                "WHERE template = 'survey.invitation' AND status = 'sent' GROUP BY chat_id"
            )
        )
        return {chat: count for chat, count in rows}


async def digest_messages(database: Database, chat_id: int) -> list[str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT status FROM outbox_messages WHERE chat_id = :chat "
                "AND idempotency_key LIKE 'digest:%'"
            ),
            {"chat": chat_id},
        )
        statuses = [row[0] for row in rows]
    assert set(statuses) <= {"sent"}, statuses
    return statuses


async def digest_deliveries(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(
            (await connection.execute(text("SELECT count(*) FROM digest_deliveries"))).scalar() or 0
        )


async def enqueue_broadcast(database: Database) -> list[int]:
    chats = list(range(FIRST_CHAT, FIRST_CHAT + BROADCAST))
    async with unit_of_work(database.sessions) as repos:
        await repos.outbox.enqueue_many(
            [
                Notification(
                    key=f"many:{chat_id}",
                    chat_id=chat_id,
                    template="text",
                    params={"text": f"notice {chat_id}"},
                )
                for chat_id in chats
            ]
        )
        await repos.commit()
    return chats


def _now() -> Any:
    from storage.base import utcnow

    return utcnow()


@pytest.fixture
async def instances() -> AsyncIterator[list[Instance]]:
    started: list[Instance] = []
    try:
        yield started
    finally:
        for instance in started:
            instance.kill()
        for instance in started:
            await instance.reap()


@pytest.mark.parametrize("with_redis", [False, True], ids=["postgresql", "postgresql+redis"])
async def test_two_instances_share_the_work_and_survive_a_kill(
    with_redis: bool,
    request: pytest.FixtureRequest,
    pg_url: str,
    tmp_path: Path,
    instances: list[Instance],
) -> None:
    redis_url = request.getfixturevalue("redis_url") if with_redis else ""
    database = create_database(pg_url)
    try:
        await prepare(database)
        async with FakeBotAPI() as fake, aiohttp.ClientSession() as http:
            fake.responder = limits = TelegramLimits()
            for name in ("a", "b"):
                instance = Instance(name, tmp_path, pg_url, fake.base_url, redis_url)
                instances.append(instance)
                await instance.start()

            async def both_healthy() -> bool:
                return all([await i.health(http) for i in instances])

            await wait_until(both_healthy, "both instances healthy", instances)

            # 1. The scheduled job ran on one instance: each member invited exactly once.
            invited = {telegram_id for *_, telegram_id in MEMBERS}

            async def invitations_sent() -> bool:
                return set(limits.delivered_to) >= invited

            await wait_until(invitations_sent, "the survey invitations", instances)
            leaders = [i for i in instances if (await i.health(http) or {}).get("leader")]
            assert len(leaders) == 1, "exactly one instance runs the scheduled jobs"
            leader = leaders[0]
            (follower,) = [i for i in instances if i is not leader]

            # 2. A broadcast, claimed by both; the leader is killed in the middle of it.
            chats = await enqueue_broadcast(database)

            async def enough_sent() -> bool:
                return sum(1 for c in limits.delivered_to if c in chats) >= KILL_AFTER

            await wait_until(enough_sent, f"{KILL_AFTER} broadcast sends", instances)
            # The officer may also have had the digest by now (several messages), so count
            # what each message is, not the messages each chat got.
            broadcast_counts = [limits.delivered_to[c] for c in chats if c in limits.delivered_to]
            assert max(broadcast_counts) == 1, "no broadcast message is sent twice while both live"
            assert set((await invitations_per_member(database)).values()) <= {1}
            leader.kill()
            await leader.reap()
            in_flight = await chats_in(database, Status.SENDING)
            sent_before = await chats_in(database, Status.SENT)

            # 3. The survivor takes over the scheduled jobs and the dead one's claims.
            async def follower_leads() -> bool:
                return bool((await follower.health(http) or {}).get("leader"))

            await wait_until(follower_leads, "the survivor to lead", [follower])

            # The new leader's catch-up sends the digest if the dead one had not: wait for
            # that as well as for the queue, or a slow machine races the catch-up.
            async def queue_empty() -> bool:
                return (
                    await digest_deliveries(database) == 1
                    and await queued_or_sending(database) == 0
                )

            await wait_until(queue_empty, "the digest and an empty outbox", [follower])

            # 4. And it answers the users: Telegram now reaches it alone.
            update = {"update_id": 900_001, **message_update({"id": 7301, "is_bot": False,
                      "first_name": "孙三", "language_code": "zh-hans"}, "/start")}  # fmt: skip
            async with http.post(
                f"{follower.base}{PATH}", json=update, headers={SECRET_HEADER: SECRET}
            ) as reply:
                assert reply.status == 200
            assert [c for c in fake.calls_of("sendMessage") if sent_to({"id": 7301})(c)]

        got = limits.delivered_to
        duplicated = {chat for chat in chats if got[chat] > 1}
        print(
            f"\nkilled the leader after {len(sent_before)} sent; {len(in_flight)} claimed by it; "
            f"{len(duplicated)} sent twice; rejected {dict(limits.rejected)}"
        )
        assert all(got[t] >= 1 for t in invited), "everyone invited"
        assert await invitations_per_member(database) == {t: 1 for t in invited}
        # One digest: one delivery row, and each of its messages (text, chart, workbook) once.
        digest_parts = await digest_messages(database, OFFICER_CHAT)
        assert await digest_deliveries(database) == 1
        assert digest_parts and got[OFFICER_CHAT] == len(digest_parts) + 1  # + the invitation
        assert set(chats) <= set(got), f"never delivered: {set(chats) - set(got)}"
        assert await chats_in(database, Status.SENT) >= set(chats)
        assert duplicated <= in_flight, "only what the dead instance had in flight may repeat"
        assert len(duplicated) <= MAX_IN_FLIGHT
        # One shared pace: two instances at 25/s each would draw dozens of 429s at Telegram's
        # 30/s. On a starved CPU a few sends bunch into one second all the same; those 429s are
        # obeyed (no send during a flood wait) and cost nothing but the wait.
        assert limits.violations == []
        assert limits.rejected["429"] <= BROADCAST // 15, dict(limits.rejected)
    finally:
        await database.dispose()
