"""FakeBotAPI + TelegramLimits in a child process, driven over a multiprocessing pipe.

The fake runs in its own process so that (a) its CPU time does not delay the sender's event
loop, as a real Telegram would not, and (b) the bench process's peak RSS is the sender's (plus
the bench's own bookkeeping), not the fake's recorded calls.

Protocol (parent -> child, one tuple per message; every command is answered):

    ("limits", kwargs)  install a fresh TelegramLimits(**kwargs), forget recorded calls -> "ok"
    ("report",)         -> dict with the current TelegramLimits' record (see `_report`)
    ("stop",)           -> "bye", then the child exits
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
from multiprocessing.connection import Connection
from typing import Any

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import TelegramLimits


def serve(conn: Connection) -> None:
    """Child process entry point."""
    asyncio.run(_serve(conn))


async def _serve(conn: Connection) -> None:
    fake = FakeBotAPI()
    await fake.start()
    limits = TelegramLimits()
    fake.responder = limits
    conn.send(("ready", fake.base_url, fake.token))
    try:
        while True:
            # Blocking recv in a thread: the server loop keeps answering meanwhile.
            command = await asyncio.to_thread(conn.recv)
            if command[0] == "limits":
                limits = TelegramLimits(**command[1])
                fake.responder = limits
                fake.calls.clear()
                conn.send("ok")
            elif command[0] == "report":
                conn.send(_report(limits))
            elif command[0] == "stop":
                conn.send("bye")
                return
            else:
                conn.send(("error", f"unknown command {command[0]!r}"))
    finally:
        await fake.stop()


def _report(limits: TelegramLimits) -> dict[str, Any]:
    return {
        "accepted": list(limits.accepted),  # [(monotonic time, chat_id)]
        "events": [(e.at, e.outcome, e.chat_id) for e in limits.events],
        "delivered_to": dict(limits.delivered_to),
        "rejected": dict(limits.rejected),
        "violations": [(v.at, v.chat_id, v.early_by) for v in limits.violations],
        "max_in_any_window": limits.max_in_any_window(),
        "max_per_chat_in_any_window": limits.max_per_chat_in_any_window(),
        "server_peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


class FakeServer:
    """Parent-side handle on the child process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no forked asyncio/aiosqlite state
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(target=serve, args=(child_conn,), daemon=True)
        self.base_url = ""
        self.token = ""

    async def start(self) -> None:
        self._process.start()
        try:
            tag, self.base_url, self.token = await self._recv(timeout=60)
        except EOFError:
            await asyncio.to_thread(self._process.join, 5)
            raise RuntimeError(
                f"fake Bot API process died at start (exit code {self._process.exitcode}); "
                "a script that starts it needs an `if __name__ == '__main__':` guard"
            ) from None
        assert tag == "ready", tag

    async def set_limits(self, **kwargs: Any) -> None:
        await self._ask(("limits", kwargs))

    async def report(self) -> dict[str, Any]:
        return await self._ask(("report",))

    async def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(EOFError, OSError, TimeoutError):
                await self._ask(("stop",))
            await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.terminate()
            await asyncio.to_thread(self._process.join, 5)

    async def _ask(self, command: tuple[Any, ...]) -> Any:
        self._conn.send(command)
        return await self._recv(timeout=120)

    async def _recv(self, timeout: float) -> Any:
        if not await asyncio.to_thread(self._conn.poll, timeout):
            raise TimeoutError("fake Bot API server did not answer")
        return self._conn.recv()
