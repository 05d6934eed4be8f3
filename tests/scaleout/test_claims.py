"""Two senders on one PostgreSQL database keep their claims apart, also when one of them is
stuck: found by the soak, where invitations went out twice (15 beyond the bound of one kill).

An instance whose every send slot waited (a record retried while PostgreSQL restarted, a
flood wait) stopped renewing its claims: the renewal ran between two claims, and the claim
loop waited for a free slot. The other instance took the claims back and sent them, and then
the first sent them too. The renewal now runs in a task of its own, each claim names the
sender holding it, and a sender that could not renew a claim does not send it.

Real PostgreSQL, two `OutboxWorker`s with their own engines, a transport in place of Telegram
that can be held; real time, short leases, no assertion on durations.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from outbox.model import ClaimedMessage, Notification, Outcome, SendResult, Status
from outbox.worker import OutboxWorker, SenderSettings
from storage.database import Database, create_database
from storage.uow import Repositories

LEASE = 1.2
SETTINGS = SenderSettings(max_in_flight=1, idle_poll=0.05, claim_lease=LEASE, record_for=60)
CHATS = range(7001, 7006)
NOTICE = {"text": "通知"}


class Telegram:
    """Both senders' Telegram: counts what reached it; can hold the first send of a sender."""

    def __init__(self) -> None:
        self.delivered: Counter[int] = Counter()  # chat -> messages that arrived

    def sender(self, hold_first: asyncio.Event | None = None) -> HeldTransport:
        return HeldTransport(self, hold_first)


class HeldTransport:
    def __init__(self, telegram: Telegram, hold_first: asyncio.Event | None) -> None:
        self._telegram = telegram
        self._hold_first = hold_first
        self.started = asyncio.Event()
        self.sent: list[int] = []

    async def send(self, message: ClaimedMessage) -> SendResult:
        first = not self.started.is_set()
        self.started.set()
        if first and self._hold_first is not None:
            await self._hold_first.wait()  # on the wire: Telegram has it, the answer is slow
        self._telegram.delivered[message.chat_id] += 1
        self.sent.append(message.chat_id)
        return SendResult(Outcome.SENT, telegram_message_id=len(self.sent))


class AwayDatabase:
    """The sender's view of the database; `away` makes every unit of work fail, as while
    PostgreSQL restarts."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.away = False

    def unit_of_work(self) -> AbstractAsyncContextManager[Repositories]:
        if self.away:
            raise ConnectionRefusedError("the database is restarting")
        return self._database.unit_of_work()


@pytest.fixture
async def engines(pg_url: str) -> AsyncIterator[tuple[Database, Database]]:
    first, second = create_database(pg_url), create_database(pg_url)
    async with first.unit_of_work() as repos:
        for chat in CHATS:
            invitation = {"text": "问卷邀请"}
            await repos.outbox.enqueue(
                Notification(key=f"invite:{chat}", chat_id=chat, template="text", params=invitation)
            )
        await repos.commit()
    yield first, second
    await first.dispose()
    await second.dispose()


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


async def outbox_counts(database: Database) -> dict[Status, int]:
    async with database.unit_of_work() as repos:
        return await repos.outbox.counts()


async def test_a_sender_whose_slots_are_all_busy_keeps_its_claims(
    engines: tuple[Database, Database],
) -> None:
    telegram, release = Telegram(), asyncio.Event()
    slow, other = telegram.sender(hold_first=release), telegram.sender()
    a = OutboxWorker(engines[0], slow, SETTINGS)
    b = OutboxWorker(engines[1], other, SETTINGS)
    stop = asyncio.Event()
    running = [asyncio.create_task(a.run(stop))]
    await until(lambda: slow.started.is_set())  # a claimed every row; its one slot is held
    running.append(asyncio.create_task(b.run(stop)))
    await asyncio.sleep(LEASE * 2.5)  # long past the lease: a must have renewed meanwhile
    release.set()
    await until(lambda: sum(telegram.delivered.values()) >= len(CHATS))
    await asyncio.sleep(LEASE)  # room for a late duplicate to show
    stop.set()
    await asyncio.gather(*running)

    assert telegram.delivered == {chat: 1 for chat in CHATS}, "each invitation once"
    assert other.sent == [], "b took none of a's claims: a was slow, not dead"
    assert (await outbox_counts(engines[0]))[Status.SENT] == len(CHATS)


async def test_a_sender_that_could_not_renew_does_not_send_what_another_took_back(
    engines: tuple[Database, Database],
) -> None:
    telegram, release = Telegram(), asyncio.Event()
    slow, other = telegram.sender(hold_first=release), telegram.sender()
    a_database = AwayDatabase(engines[0])
    a = OutboxWorker(a_database, slow, SETTINGS)  # type: ignore[arg-type]
    b = OutboxWorker(engines[1], other, SETTINGS)
    stop = asyncio.Event()
    running = [asyncio.create_task(a.run(stop))]
    await until(lambda: slow.started.is_set())
    a_database.away = True  # a cannot renew: to b, a looks dead once the lease has run out
    running.append(asyncio.create_task(b.run(stop)))
    await until(lambda: len(other.sent) == len(CHATS))  # b took every claim back and sent it
    a_database.away = False
    release.set()  # a's one request on the wire gets its answer: the duplicate we allow
    await asyncio.sleep(LEASE * 2)  # a's claim loop goes on: it must send nothing more
    stop.set()
    await asyncio.gather(*running)

    assert len(slow.sent) == 1, "a sent only the request that was already on the wire"
    twice = [chat for chat, n in telegram.delivered.items() if n > 1]
    assert len(twice) <= SETTINGS.max_in_flight, "duplicates within the documented bound"
    assert set(telegram.delivered) == set(CHATS)
    assert (await outbox_counts(engines[0]))[Status.SENT] == len(CHATS)


class RequeueRefusedOnce:
    """The database refuses the first requeue: it went away just after a claim."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.refused = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Repositories]:
        async with self._database.unit_of_work() as repos:
            if not self.refused:

                async def refuse(*_args: object, **_kwargs: object) -> None:
                    self.refused += 1
                    raise ConnectionRefusedError("the database is restarting")

                repos.outbox.reschedule = refuse  # type: ignore[method-assign]
            yield repos


async def test_claims_left_behind_by_a_failed_requeue_are_sent_after_all(
    engines: tuple[Database, Database],
) -> None:
    """Found by the 15-minute soak: PostgreSQL went away while a sender was putting back a
    message whose chat was busy. The rest of that claim was never scheduled, yet its claims
    were renewed for half an hour: 18 messages stayed 'sending', and 90 waited behind them."""
    async with engines[0].unit_of_work() as repos:
        for n in range(2):  # the same chat twice: the second waits for its turn
            await repos.outbox.enqueue(
                Notification(
                    key=f"notice:{n}", chat_id=7101, template="text", params={"text": "通知"}
                )
            )
        await repos.commit()
    telegram = Telegram()
    database = RequeueRefusedOnce(engines[0])
    sender = OutboxWorker(database, telegram.sender(), SETTINGS)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await until(lambda: sum(telegram.delivered.values()) == 2 + len(CHATS))
    stop.set()
    await running
    assert database.refused == 1
    assert telegram.delivered[7101] == 2, "both notices, once each"
    assert (await outbox_counts(engines[0]))[Status.SENT] == 2 + len(CHATS)
