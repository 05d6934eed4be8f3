"""Per-user event isolation: two quick taps are handled one after the other — in this process
(`UserEventIsolation`), or across instances through Redis (`SharedUserIsolation`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)


class UserEventIsolation(BaseEventIsolation):
    """Like aiogram's SimpleEventIsolation, but forgets a user's lock when nobody waits on it
    (aiogram's keeps one lock per user forever)."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            entry = self._locks.get(key)
            # close() may have cleared the table while this update was still running.
            if entry is not None and entry[0] is lock:
                if entry[1] == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, entry[1] - 1)

    # Not __len__: aiogram does `events_isolation or DisabledEventIsolation()`, and an empty
    # sized object is falsy, which would silently switch isolation off.
    @property
    def active_locks(self) -> int:
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()


class SharedUserIsolation(RedisEventIsolation):
    """aiogram's `RedisEventIsolation`, except that a lock which cannot be released is logged,
    not raised. The lock is released after the update's work is committed; when Redis restarted
    meanwhile (the key is gone) or is down at that moment, aiogram raised, and the person was
    told "try again" for a step that was saved — so they sent it twice. Found by the soak
    (bench/soak, Redis restarted under load). An unreleased key expires by itself (60 s)."""

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        lock = self.redis.lock(name=name, **self.lock_kwargs, lock_class=Lock)
        if not await lock.acquire():
            raise LockError("Unable to acquire lock within the time specified")
        try:
            yield None
        finally:
            try:
                await lock.release()
            except (LockError, RedisError) as error:
                logger.warning(
                    "a user's update lock was gone at release (%s); the update was handled",
                    type(error).__name__,
                )
