"""UserEventIsolation: one user's events one at a time, different users in parallel, no leak."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.isolation import UserEventIsolation


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=42, chat_id=user_id, user_id=user_id)


class Boom(Exception):
    pass


async def _body(
    isolation: UserEventIsolation,
    k: StorageKey,
    name: str,
    log: list[str],
    *,
    hold: asyncio.Event | None = None,
    fail: bool = False,
) -> None:
    async with isolation.lock(k):
        log.append(f"enter {name}")
        if hold is not None:
            await hold.wait()
        else:
            for _ in range(5):
                await asyncio.sleep(0)
        log.append(f"exit {name}")
        if fail:
            raise Boom(name)


async def test_same_key_runs_one_after_the_other() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    await asyncio.wait_for(
        asyncio.gather(*(_body(isolation, key(1), str(i), log) for i in range(3))), 5
    )
    assert log == ["enter 0", "exit 0", "enter 1", "exit 1", "enter 2", "exit 2"]
    assert isolation.active_locks == 0


async def test_same_key_waits_while_held() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(_body(isolation, key(1), "a", log, hold=release))
    second = asyncio.create_task(_body(isolation, key(1), "b", log))
    for _ in range(20):
        await asyncio.sleep(0)
    assert log == ["enter a"]  # b is waiting for a
    assert isolation.active_locks == 1  # one lock, shared
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert log == ["enter a", "exit a", "enter b", "exit b"]
    assert isolation.active_locks == 0


async def test_different_keys_run_concurrently() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(_body(isolation, key(1), "a", log, hold=release))
    second = asyncio.create_task(_body(isolation, key(2), "b", log, hold=release))
    for _ in range(20):
        await asyncio.sleep(0)
    # Both are inside at once: if b waited for a, this would deadlock (a waits for release).
    assert sorted(log) == ["enter a", "enter b"]
    assert isolation.active_locks == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert isolation.active_locks == 0


async def test_no_leak_when_the_body_raises() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    results = await asyncio.wait_for(
        asyncio.gather(
            _body(isolation, key(1), "a", log, fail=True),
            _body(isolation, key(1), "b", log),
            _body(isolation, key(1), "c", log, fail=True),
            _body(isolation, key(2), "d", log, fail=True),
            return_exceptions=True,
        ),
        5,
    )
    assert [type(r) for r in results] == [Boom, type(None), Boom, Boom]
    assert isolation.active_locks == 0
    # The failed holder released the lock: the next one for the same user got in.
    assert log.index("exit a") < log.index("enter b") < log.index("exit b") < log.index("enter c")


async def test_no_leak_when_a_waiter_is_cancelled() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    release = asyncio.Event()
    holder = asyncio.create_task(_body(isolation, key(1), "a", log, hold=release))
    waiter = asyncio.create_task(_body(isolation, key(1), "b", log))
    for _ in range(20):
        await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await asyncio.wait_for(holder, 5)
    assert log == ["enter a", "exit a"]
    assert isolation.active_locks == 0


async def test_lock_is_reusable_after_release() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    for name in ("a", "b"):
        await _body(isolation, key(1), name, log)
        assert isolation.active_locks == 0
    assert log == ["enter a", "exit a", "enter b", "exit b"]


async def test_many_users_many_events() -> None:
    isolation = UserEventIsolation()
    inside: dict[int, int] = {}
    overlap: list[int] = []

    async def body(user: int) -> None:
        async with isolation.lock(key(user)):
            inside[user] = inside.get(user, 0) + 1
            if inside[user] > 1:
                overlap.append(user)
            await asyncio.sleep(0)
            inside[user] -= 1

    await asyncio.wait_for(asyncio.gather(*(body(i % 7) for i in range(200))), 5)
    assert overlap == []
    assert isolation.active_locks == 0


async def test_close_when_idle() -> None:
    isolation = UserEventIsolation()
    await _body(isolation, key(1), "a", [])
    await isolation.close()
    assert isolation.active_locks == 0
    await _body(isolation, key(1), "b", [])  # still usable
    assert isolation.active_locks == 0


async def test_close_while_a_lock_is_held() -> None:
    isolation = UserEventIsolation()
    log: list[str] = []
    release = asyncio.Event()
    holder = asyncio.create_task(_body(isolation, key(1), "a", log, hold=release))
    waiter = asyncio.create_task(_body(isolation, key(1), "b", log))
    for _ in range(20):
        await asyncio.sleep(0)
    await isolation.close()  # shutdown, while updates are still being handled
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), 5)
    assert log == ["enter a", "exit a", "enter b", "exit b"]
    assert isolation.active_locks == 0


def test_isolation_is_truthy_so_aiogram_keeps_it() -> None:
    # Dispatcher(events_isolation=x) falls back to no isolation when x is falsy.
    from aiogram import Dispatcher

    isolation = UserEventIsolation()
    assert Dispatcher(events_isolation=isolation).fsm.events_isolation is isolation
