"""One leader among several instances: scheduled jobs run on exactly one of them.

The leader runs the *companions* (the scheduler with every job registered in
`bot.scheduler.create_scheduler`, and the broadcast progress reporter); the others wait and
take over when the leader dies. Jobs are idempotent besides, so the short overlap a network
partition could cause sends nothing twice.

- SQLite: one process owns the file, so it is always the leader.
- PostgreSQL: a session-level advisory lock on a dedicated connection; the server releases it
  the moment that connection dies (a killed instance hands over at once).
- Redis (when `[fsm] redis_url` is set): a key with expiry, renewed while held; a killed
  instance hands over after at most `LEASE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# pg_advisory_lock takes a bigint: the ASCII of "uvleader" keeps clear of other users' keys.
ADVISORY_KEY = int.from_bytes(b"uvleader", "big") & 0x7FFF_FFFF_FFFF_FFFF
REDIS_KEY = "unionvoice:leader"
LEASE_SECONDS = 15.0
CHECK_SECONDS = 5.0  # how often a leader renews and a follower tries to take over


class LeaderLock(Protocol):
    async def try_acquire(self) -> bool: ...

    async def holds(self) -> bool:
        """Still ours (renewing it where it expires)? False once lost."""
        ...

    async def release(self) -> None: ...


class SoleInstance:
    """SQLite: the only instance is the leader."""

    async def try_acquire(self) -> bool:
        return True

    async def holds(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PostgresAdvisoryLock:
    def __init__(self, engine: AsyncEngine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        connection = await self._engine.connect()
        try:
            # Autocommit: the lock belongs to the session, no transaction stays open.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
        except BaseException:
            await connection.close()
            raise
        if not acquired:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def holds(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.scalar(text("SELECT 1"))
            return True
        except Exception:  # the connection is gone, and the lock with it
            logger.warning("leader: lost the database connection holding the lock")
            await self._drop_connection()
            return False

    async def release(self) -> None:
        if self._connection is None:
            return
        with suppress(Exception):
            await self._connection.scalar(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
            )
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):
                await connection.close()


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLeaseLock:
    """SET NX PX with a random token; renewed and released only by its holder."""

    def __init__(
        self, redis: Redis, key: str = REDIS_KEY, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self._redis = redis
        self._key = key
        self._lease_ms = int(lease_seconds * 1000)
        self._token = uuid.uuid4().hex

    async def try_acquire(self) -> bool:
        return bool(await self._redis.set(self._key, self._token, nx=True, px=self._lease_ms))

    async def holds(self) -> bool:
        try:
            renewed = await self._redis.eval(_RENEW, 1, self._key, self._token, self._lease_ms)
        except Exception:
            logger.warning("leader: Redis unreachable; stepping down", exc_info=True)
            return False
        return bool(renewed)

    async def release(self) -> None:
        with suppress(Exception):
            await self._redis.eval(_RELEASE, 1, self._key, self._token)


Companions = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Leadership:
    """Campaigns for the lock until `stop`; runs `companions` while it holds it."""

    def __init__(
        self, lock: LeaderLock, companions: Companions, *, check_seconds: float = CHECK_SECONDS
    ) -> None:
        self._lock = lock
        self._companions = companions
        self._check_seconds = check_seconds
        self.is_leader = False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                acquired = await self._lock.try_acquire()
            except Exception:
                logger.warning("leader: could not campaign; trying again", exc_info=True)
                acquired = False
            if acquired:
                await self._lead(stop)
            await _wait(stop, self._check_seconds)

    async def _lead(self, stop: asyncio.Event) -> None:
        logger.info("leader: this instance runs the scheduled jobs")
        self.is_leader = True
        step_down = asyncio.Event()
        companions = asyncio.create_task(self._companions(step_down))
        try:
            while not stop.is_set() and not companions.done():
                await _wait(stop, self._check_seconds)
                if not stop.is_set() and not await self._lock.holds():
                    logger.warning("leader: lock lost; stopping the scheduled jobs here")
                    break
        finally:
            step_down.set()
            self.is_leader = False
            try:
                await companions
            except Exception:
                logger.exception("leader: scheduled companions failed")
            await self._lock.release()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
