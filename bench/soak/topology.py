"""`unionvoice run` processes, the round-robin front before the webhook instances, and the two
ways Telegram hands an update over: long polling (the fake's queue) and webhook POSTs that are
retried until an instance answers 200, as Telegram does."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.soak.services import free_port
from bench.soak.telegram import SoakTelegram

ROOT = Path(__file__).resolve().parents[2]
SECRET = "soak-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/tg"
MAILBOX_KEY = "c29hay1rZXktc29hay1rZXktc29hay1rZXktc29hayE="  # 32 bytes, for the soak only


@dataclass
class Settings:
    rate_per_second: float = 20.0
    max_in_flight: int = 8
    claim_lease: float = 10.0  # short, so a killed instance's claims move on within the run


class Instance:
    """One `python -m bench.soak.plant <fault> run` process (the fault is usually "none")."""

    def __init__(
        self, name: str, directory: Path, *, db_url: str, api_base: str, redis_url: str,
        webhook: bool, settings: Settings, plant: str,
    ) -> None:  # fmt: skip
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = directory / f"{name}.toml"
        self.log = directory / f"{name}.log"
        self.plant = plant
        self.starts = 0
        self.polls_at_start = 0  # getUpdates calls seen before this process started
        self.rss_samples: list[int] = []
        mode = (
            f'mode = "webhook"\nwebhook_url = "https://bot.example.edu.cn{PATH}"\n'
            f'webhook_secret = "{SECRET}"\nwebhook_port = {self.port}\n'
            if webhook
            else 'mode = "polling"\npolling_timeout = 1\n'
        )
        redis_line = f'redis_url = "{redis_url}"' if redis_url else ""
        self.config.write_text(
            f"""
[telegram]
token = "42:TEST"
api_base = "{api_base}"
bot_username = "unionvoice_test_bot"
{mode}
[database]
url = "{db_url}"

[fsm]
{redis_line}

[mailbox]
secret_key = "{MAILBOX_KEY}"
anonymous_per_day = 50
[[mailbox.boxes]]
key = "principal"
name = {{ zh = "院长信箱", en = "Principal's mailbox" }}
roles = ["principal"]

[[mailbox.boxes]]
key = "secretary"
name = {{ zh = "书记信箱", en = "Secretary's mailbox" }}
roles = ["secretary"]


[proposals]
min_cosigners = 2

[outbox]
rate_per_second = {settings.rate_per_second}
max_in_flight = {settings.max_in_flight}
claim_lease = {settings.claim_lease}
progress_interval = 3.0
""",
            encoding="utf-8",
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"\n===== start {self.starts} =====\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.soak.plant", self.plant,
                "--config", str(self.config), "run",
                cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, "BOT_TOKEN": "", "WEBHOOK_SECRET": ""},
            )  # fmt: skip

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def rss_kb(self) -> int:
        if not self.alive:
            return 0
        assert self.process is not None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    async def ready(self, http: aiohttp.ClientSession, fake: SoakTelegram, webhook: bool) -> bool:
        if not self.alive:
            return False
        if not webhook:
            return fake.method_counts["getupdates"] > self.polls_at_start
        try:
            async with http.get(f"{self.base}/healthz") as reply:
                return reply.status == 200
        except aiohttp.ClientError:
            return False

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        try:
            async with http.get(f"{self.base}/healthz") as reply:
                return dict(await reply.json()) if reply.status == 200 else {}
        except (aiohttp.ClientError, ValueError):
            return {}

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when a machine dies."""
        if self.alive:
            assert self.process is not None
            with suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM and wait: the clean stop an operator does."""
        if self.alive:
            assert self.process is not None
            with suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.kill()
        if self.process is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 30)


class Front:
    """A small reverse proxy: each POST to the next instance in turn; 502 when it is down (a
    proxy would also answer so, and Telegram retries)."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = instances
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0
        self.forwarded = 0

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application()
        app.router.add_post(PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        target = self.instances[next(self._turn) % len(self.instances)]
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
                   "Content-Type": "application/json"}  # fmt: skip
        self.forwarded += 1
        try:
            async with self._http.post(f"{target.base}{PATH}", data=body, headers=headers) as r:
                return web.Response(status=r.status, body=await r.read())
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=502, text="Bad Gateway")


@dataclass
class UpdateRecord:
    update_id: int
    user_id: int
    kind: str
    statuses: list[int] = field(default_factory=list)  # webhook: each attempt's answer
    acked: bool = False
    duplicate: bool = False
    finished: bool = True  # False while Telegram would still be retrying it
    at: float = field(default_factory=time.monotonic)  # when the member sent it


class Delivery:
    """Hands updates to the product and tells when it has taken them."""

    webhook = False

    def __init__(self, fake: SoakTelegram) -> None:
        self.fake = fake
        self.records: dict[int, UpdateRecord] = {}
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    async def deliver(self, update: dict[str, Any], record: UpdateRecord) -> None:
        raise NotImplementedError

    async def deliver_twice(self, update: dict[str, Any], record: UpdateRecord) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class PollingDelivery(Delivery):
    """Telegram's queue for getUpdates: an update counts as taken once a later offset
    confirmed it (checked at the end: whatever the fake still holds was not)."""

    async def deliver(self, update: dict[str, Any], record: UpdateRecord) -> None:
        self.records[record.update_id] = record
        self.fake.push_update(update)

    async def deliver_twice(self, update: dict[str, Any], record: UpdateRecord) -> None:
        # Both copies in the queue before either is confirmed: handed out in one batch.
        record.duplicate = True
        self.records[record.update_id] = record
        self.fake.push_update(update)
        self.fake.push_update(update)

    def settle(self) -> None:
        pending = self.fake.pending_ids()
        for record in self.records.values():
            record.acked = record.update_id not in pending


class WebhookDelivery(Delivery):
    """POSTs through the front; anything but 200 (or no answer) is retried with backoff, up to
    `give_up` seconds, like Telegram's webhook delivery."""

    webhook = True

    def __init__(self, fake: SoakTelegram, front: Front, give_up: float = 180.0) -> None:
        super().__init__(fake)
        self.url = f"http://127.0.0.1:{front.port}{PATH}"
        self.give_up = give_up
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=65))

    async def close(self) -> None:
        await self._http.close()

    async def _post(self, update: dict[str, Any], record: UpdateRecord) -> None:
        deadline = time.monotonic() + self.give_up
        delay = 0.5
        record.finished = False
        while True:
            try:
                async with self._http.post(
                    self.url, json=update, headers={SECRET_HEADER: SECRET}
                ) as reply:
                    status = reply.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            record.statuses.append(status)
            if status == 200:
                record.acked = record.finished = True
                return
            if time.monotonic() > deadline:
                record.finished = True
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)

    async def deliver(self, update: dict[str, Any], record: UpdateRecord) -> None:
        self.records[record.update_id] = record
        await self._post(update, record)

    async def deliver_twice(self, update: dict[str, Any], record: UpdateRecord) -> None:
        # A redelivery racing the first delivery (Telegram timed out waiting): the front sends
        # the two copies to different instances at the same moment.
        record.duplicate = True
        self.records[record.update_id] = record
        copy = UpdateRecord(record.update_id, record.user_id, record.kind)
        await asyncio.gather(self._post(update, record), self._post(update, copy))
        record.statuses += copy.statuses
        record.acked = record.acked or copy.acked

    async def deliver_pair(
        self, pair: list[tuple[dict[str, Any], UpdateRecord]], *, dup: bool = False
    ) -> None:
        """Two updates at once, likely on two instances: they may be handled in either order
        (with `dup`, each of them twice, as `deliver_twice`)."""
        if dup:
            await asyncio.gather(*(self.deliver_twice(u, r) for u, r in pair))
            return
        for _update, record in pair:
            self.records[record.update_id] = record
        await asyncio.gather(*(self._post(u, r) for u, r in pair))
