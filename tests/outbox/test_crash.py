"""Kill the sender with SIGKILL mid-broadcast, start a new one: nothing is lost, and the only
duplicates are messages that were in flight when it died (at most `max_in_flight`).

The sender runs in a subprocess (tests/outbox/sender_process.py) against a FakeBotAPI served
by this test's event loop, on the same SQLite file this test polls.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outbox.model import Notification, Status
from storage.database import Database
from storage.models import OutboxMessage
from storage.uow import Repositories
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import TelegramLimits
from tests.outbox.sender_process import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 150
KILL_AFTER = 40  # accepted sends
FIRST_CHAT = 8001


class Sender:
    """One `python -m tests.outbox.sender_process` process; output goes to files."""

    def __init__(self, db_url: str, api_base: str, logs: Path, name: str) -> None:
        self.db_url, self.api_base = db_url, api_base
        self.stdout, self.stderr = logs / f"{name}.out", logs / f"{name}.err"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.outbox.sender_process",
                self.db_url,
                self.api_base,
                cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(
                f"sender exited with {self.process.returncode}:\n{self.stderr.read_text()}"
            )

    def send_kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with suppress(ProcessLookupError):  # it may have died on its own just now
                os.kill(self.process.pid, signal.SIGKILL)

    async def kill(self) -> None:
        """SIGKILL: no finally blocks, no requeueing, no closing of connections."""
        self.send_kill()
        if self.process is not None:
            await asyncio.wait_for(self.process.wait(), timeout=30)


@pytest.fixture
async def senders() -> AsyncIterator[list[Sender]]:
    started: list[Sender] = []
    try:
        yield started
    finally:
        # Whatever happened in the test: no orphan processes. Signal all, then reap.
        for sender in started:
            sender.send_kill()
        for sender in started:
            with suppress(TimeoutError):
                await sender.kill()


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    what: str,
    *,
    timeout: float,
    sender: Sender,
    interval: float = 0.005,
) -> None:
    """Poll `condition` (sync or async) until true; fail early if the sender died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        sender.check_alive()
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def chats_in(database: Database, *statuses: Status) -> set[int]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.status.in_(statuses))
        )
        return set(found)


async def unfinished(database: Database) -> int:
    async with database.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(OutboxMessage.status.in_([Status.QUEUED, Status.SENDING]))
        )
        return int(count or 0)


async def test_sigkill_mid_broadcast_loses_nothing_and_duplicates_only_in_flight(
    db_url: str, database: Database, tmp_path: Path, senders: list[Sender]
) -> None:
    chats = list(range(FIRST_CHAT, FIRST_CHAT + MESSAGES))

    async def queue_empty() -> bool:
        return await unfinished(database) == 0

    async with database.sessions() as session:
        repos = Repositories(session)
        for chat_id in chats:
            await repos.outbox.enqueue(
                Notification(
                    key=f"crash:{chat_id}",
                    chat_id=chat_id,
                    template="text",
                    params={"text": f"notice for {chat_id}"},
                )
            )
        await repos.commit()

    async with FakeBotAPI() as fake:
        fake.responder = limits = TelegramLimits()

        first = Sender(db_url, fake.base_url, tmp_path, "first")
        senders.append(first)
        await first.start()
        await wait_until(
            lambda: len(limits.accepted) >= KILL_AFTER,
            f"{KILL_AFTER} accepted sends",
            timeout=120,  # includes the process start: importing aiogram on a busy machine
            sender=first,
        )
        await first.kill()
        accepted_at_kill = len(limits.accepted)
        # Claimed by the dead sender and never recorded: these are all that can go out twice.
        in_flight = await chats_in(database, Status.SENDING)
        sent_before = await chats_in(database, Status.SENT)

        second = Sender(db_url, fake.base_url, tmp_path, "second")
        senders.append(second)
        await second.start()
        # A query per look: looking less often leaves the CPU to the sender.
        await wait_until(queue_empty, "an empty queue", timeout=90, sender=second, interval=0.1)
        await second.kill()

    got = limits.delivered_to
    duplicated = {chat_id for chat_id, n in got.items() if n == 2}
    print(
        f"\n3: killed after {accepted_at_kill} accepted; {len(in_flight)} row(s) 'sending' at "
        f"the kill; {len(duplicated)} chat(s) got the message twice; "
        f"rejected {dict(limits.rejected)}, violations {len(limits.violations)}"
    )
    assert not (await chats_in(database, Status.SENT)) ^ set(chats), "every row ends 'sent'"
    assert set(got) == set(chats), f"never delivered: {set(chats) - set(got)}"
    assert max(got.values()) <= 2, f"three times or more: {limits.duplicates()}"
    assert duplicated <= in_flight, "only messages claimed by the dead sender may repeat"
    assert not duplicated & sent_before, "a recorded 'sent' was sent again"
    assert len(duplicated) <= len(in_flight)
    assert len(duplicated) <= SETTINGS.max_in_flight
    assert limits.violations == []
