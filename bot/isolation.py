"""Per-user event isolation: two quick taps are handled one after the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


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
