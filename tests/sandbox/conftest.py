"""A running sandbox (page server + the real bot long-polling it) for the sandbox tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.sandbox import SandboxOptions, run_sandbox


@dataclass
class RunningSandbox:
    url: str
    task: asyncio.Task[None]


def sandbox_config() -> Config:
    # No co-signers needed: a filed proposal goes straight to the officers' queue.
    return parse_config({"proposals": {"min_cosigners": 0}})


@pytest.fixture
async def running_sandbox(sqlite_url: str) -> AsyncIterator[RunningSandbox]:
    """`unionvoice sandbox --demo` on a free port, on a migrated copy of the test database
    (the sandbox always runs on SQLite, whatever backend the suite runs on)."""
    config = sandbox_config()
    database = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    options = SandboxOptions(port=0, database=database, demo=True)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_sandbox(config, options, stop=stop, handle_signals=False, on_ready=ready.set_result)
    )
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # start-up failed: show why
    assert ready in done, "the sandbox did not start within 30 s"
    try:
        yield RunningSandbox(ready.result(), task)
    finally:
        stop.set()
        with suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
