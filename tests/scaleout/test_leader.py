"""Exactly one leader among instances, on a real PostgreSQL server and a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.leader import LeaderLock, Leadership, PostgresAdvisoryLock, RedisLeaseLock
from storage.database import Database, create_database


@pytest.fixture
async def pg_database(pg_url: str) -> AsyncIterator[Database]:
    database = create_database(pg_url)
    yield database
    await database.dispose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_one_advisory_lock_holder_until_its_connection_dies(pg_database: Database) -> None:
    first = PostgresAdvisoryLock(pg_database.engine)
    second = PostgresAdvisoryLock(pg_database.engine)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.holds()
    # A killed instance: its connection is gone, no unlock was sent.
    assert first._connection is not None
    await first._connection.invalidate()
    assert not await first.holds()
    assert await second.try_acquire()
    await second.release()


async def test_one_redis_lease_holder_and_expiry(redis: Redis) -> None:
    first = RedisLeaseLock(redis, lease_seconds=0.3)
    second = RedisLeaseLock(redis, lease_seconds=0.3)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.holds()  # renewed
    await asyncio.sleep(0.5)  # the holder died: no renewal, the lease runs out
    assert await second.try_acquire()
    assert not await first.holds()  # and the old holder knows it lost it
    await first.release()  # releasing someone else's lease does nothing
    assert await second.holds()
    await second.release()


def _campaign(locks: list[LeaderLock]) -> tuple[asyncio.Queue[int], list[Leadership]]:
    """Several instances campaign; the queue says who started the companions, in order."""
    started: asyncio.Queue[int] = asyncio.Queue()
    leaderships = []
    for number, lock in enumerate(locks):

        async def companions(step_down: asyncio.Event, number: int = number) -> None:
            started.put_nowait(number)
            await step_down.wait()

        leaderships.append(Leadership(lock, companions, check_seconds=0.05))
    return started, leaderships


@pytest.fixture(params=["postgresql", "redis"])
async def three_locks(request: pytest.FixtureRequest) -> AsyncIterator[list[LeaderLock]]:
    """Three instances' locks on one PostgreSQL database, or on one Redis."""
    if request.param == "postgresql":
        database = create_database(request.getfixturevalue("pg_url"))
        yield [PostgresAdvisoryLock(database.engine) for _ in range(3)]
        await database.dispose()
    else:
        client = Redis.from_url(request.getfixturevalue("redis_url"))
        yield [RedisLeaseLock(client, lease_seconds=1.0) for _ in range(3)]
        await client.aclose()


async def test_companions_run_on_exactly_one_instance_and_move_when_it_stops(
    three_locks: list[LeaderLock],
) -> None:
    locks = three_locks
    started, leaderships = _campaign(locks)
    stops = [asyncio.Event() for _ in leaderships]
    tasks = [
        asyncio.create_task(lead.run(stop)) for lead, stop in zip(leaderships, stops, strict=True)
    ]
    try:
        first = await asyncio.wait_for(started.get(), 10)
        await asyncio.sleep(0.3)  # several campaign rounds: nobody else starts
        assert started.empty()
        assert [lead.is_leader for lead in leaderships] == [n == first for n in range(3)]
        stops[first].set()  # the leader stops (and releases): another one takes over
        await tasks[first]
        second = await asyncio.wait_for(started.get(), 10)
        assert second != first
        await asyncio.sleep(0.3)
        assert started.empty()
        assert [lead.is_leader for lead in leaderships].count(True) == 1
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
