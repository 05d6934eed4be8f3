"""The real PostgreSQL and Redis servers tests may use (started by `.ci/run`).

Without TEST_DATABASE_URL / TEST_REDIS_URL (a developer laptop) the tests that need them are
skipped with a reason; the rest of the suite runs on SQLite alone.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]

T = TypeVar("T")


class _BackgroundLoop:
    """An event loop in its own thread: session-wide admin work, whatever loop a test uses."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class PostgresTemplate:
    """Migrates one template database; each test gets a clone (CREATE DATABASE … TEMPLATE),
    which is as fast as truncating and leaves nothing of one test in the next."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        if self._url.get_backend_name() != "postgresql":
            raise ValueError(f"TEST_DATABASE_URL must be postgresql+asyncpg://…, not {url}")
        self._prefix = f"uv_test_{os.getpid()}"
        self._template = f"{self._prefix}_template"
        self._numbers = itertools.count(1)
        self._loop = _BackgroundLoop()
        self._admin: Any = None

    def url_of(self, database: str) -> str:
        return self._url.set(database=database).render_as_string(hide_password=False)

    def create(self, migrate: Callable[[str], Awaitable[None]]) -> None:
        self._loop.run(self._connect())
        self._execute(f'DROP DATABASE IF EXISTS "{self._template}"')
        self._execute(f'CREATE DATABASE "{self._template}"')
        self._loop.run(_awaitable(migrate(self.url_of(self._template))))

    def clone(self) -> str:
        name = f"{self._prefix}_{next(self._numbers)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}" STRATEGY FILE_COPY')
        return self.url_of(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self._loop.run(self._admin.close())
        self._loop.close()

    async def _connect(self) -> None:
        import asyncpg

        dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            self._admin = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            # Set but unreachable is a broken CI set-up, not a reason to skip.
            raise RuntimeError(f"TEST_DATABASE_URL is set but unreachable: {exc}") from exc

    def _execute(self, sql: str) -> None:
        self._loop.run(self._admin.execute(sql))


async def _awaitable(awaitable: Awaitable[T]) -> T:
    return await awaitable


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        raise RuntimeError(f"TEST_REDIS_URL is set but unreachable: {exc}") from exc
    finally:
        client.close()
