"""The real PostgreSQL and Redis servers tests may use (started by `.ci/run`).

Without TEST_DATABASE_URL / TEST_REDIS_URL (a developer laptop) the tests that need them are
skipped with a reason; the rest of the suite runs on SQLite alone.

Under pytest-xdist every worker has its own state: a PostgreSQL database named after its
process, and the Redis database number of TEST_REDIS_URL plus the worker's index (gw0: the
given number, gw1: the next, …), so workers never flush each other's data.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url


def _worker_index() -> int:
    """0 outside pytest-xdist; n for its worker "gw<n>"."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _redis_for_this_worker(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base + _worker_index()
    if number > 15:  # Redis has 16 numbered databases unless configured otherwise
        raise RuntimeError(f"TEST_REDIS_URL: database {base} + worker {_worker_index()} > 15")
    return urlunsplit(parts._replace(path=f"/{number}"))


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
TEST_REDIS_URL = _redis_for_this_worker(os.environ.get("TEST_REDIS_URL") or None)
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


class PostgresTestDatabase:
    """One migrated database for the session, emptied before each test: TRUNCATE … RESTART
    IDENTITY takes ~30 ms where CREATE DATABASE … TEMPLATE takes ~370 ms, and leaves nothing
    of one test in the next (ids start at 1 again)."""

    def __init__(self, url: str) -> None:
        self._server = make_url(url)
        if self._server.get_backend_name() != "postgresql":
            raise ValueError(f"TEST_DATABASE_URL must be postgresql+asyncpg://…, not {url}")
        self.name = f"uv_test_{os.getpid()}"
        self.url = self._server.set(database=self.name).render_as_string(hide_password=False)
        self._loop = _BackgroundLoop()
        self._admin: Any = None  # on the server's maintenance database
        self._inside: Any = None  # on the test database
        self._truncate = ""

    def create(self, migrate: Callable[[str], Awaitable[None]]) -> None:
        self._admin = self._loop.run(self._connect(self._server.database or "postgres"))
        self._run(self._admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._run(self._admin.execute(f'CREATE DATABASE "{self.name}"'))
        self._loop.run(_awaitable(migrate(self.url)))
        self._inside = self._loop.run(self._connect(self.name))
        tables = self._run(
            self._inside.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
        names = ", ".join(f'"{row[0]}"' for row in tables)
        self._truncate = f"TRUNCATE {names} RESTART IDENTITY CASCADE"

    def fresh(self) -> str:
        """Empty every table (after ending connections a previous test left behind)."""
        self._run(
            self._admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> $2",
                self.name,
                self._inside.get_server_pid(),
            )
        )
        self._run(self._inside.execute(self._truncate))
        return self.url

    def close(self) -> None:
        self._run(self._inside.close())
        self._run(self._admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._run(self._admin.close())
        self._loop.close()

    async def _connect(self, database: str) -> Any:
        import asyncpg

        dsn = self._server.set(drivername="postgresql", database=database)
        try:
            return await asyncpg.connect(dsn.render_as_string(hide_password=False))
        except (OSError, asyncpg.PostgresError) as exc:
            # Set but unreachable is a broken CI set-up, not a reason to skip.
            raise RuntimeError(f"TEST_DATABASE_URL is set but unreachable: {exc}") from exc

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coroutine)


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
