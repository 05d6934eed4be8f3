"""Outbox throughput bench: the real OutboxWorker + TelegramTransport against a fake Bot API
that enforces Telegram's limits, and a bare paced `send_message` loop as the baseline.

    python -m bench.outbox_bench [--recipients 10000] [--rate 25] [--limit 30]
                                 [--forbidden 0.01] [--server-errors 0.01] [--db PATH]

Exits 1 if the outbox lost a reachable chat, sent a chat twice, or sent during a flood wait.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError

from bench.fake_server import FakeServer
from bot.factory import create_renderers
from bot.telegram_transport import TelegramTransport
from handlers.i18n import create_i18n
from handlers.renderers import PLAIN_TEXT
from outbox.model import Notification, Status
from outbox.worker import OutboxWorker, SenderSettings
from storage import migrate
from storage.database import Database, create_database
from storage.uow import Repositories
from tests.fakes.telegram_limits import max_in_window

FIRST_CHAT_ID = 5_000_000_000  # distinct private-chat ids (> 2**31, like real user ids)
PROBE_CHAT_ID = 4_999_999_999  # the one notification queued mid-broadcast
SEED = 20240601
# A typical union announcement: about 300 characters of Chinese, with HTML.
TEXT = (
    "<b>工会通知</b>\n\n"
    + "各位会员：本周五下午三点在学院礼堂召开全体会员大会，讨论年度福利方案与会费调整，"
    "请准时参加。如无法到场，请在机器人中提交书面意见。" * 3
)


@dataclass
class Phase:
    """What the fake saw during one phase, plus the sender-side figures."""

    name: str
    wall: float
    report: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted_times(self) -> list[float]:
        return sorted(at for at, _ in self.report["accepted"])

    @property
    def accepted(self) -> int:
        return len(self.report["accepted"])

    @property
    def accepted_rate(self) -> float:
        times = self.accepted_times
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return len(times) / span if span > 0 else 0.0

    @property
    def request_rate(self) -> float:
        times = sorted(at for at, _, _ in self.report["events"])
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return len(times) / span if span > 0 else 0.0

    @property
    def last_first_attempt(self) -> float:
        """When the last chat got its first request: after it, only retries are left."""
        first: dict[Any, float] = {}
        for at, _, chat_id in self.report["events"]:
            first[chat_id] = min(at, first.get(chat_id, at))
        return max(first.values()) if first else 0.0

    @property
    def retry_tail(self) -> float:
        """Seconds from the last first attempt to the last accepted send (retries at the end)."""
        times = self.accepted_times
        return max(0.0, times[-1] - self.last_first_attempt) if times else 0.0

    @property
    def steady_rate(self) -> float:
        """Accepted rate up to the last first attempt: the pacing, without the retry tail."""
        end = self.last_first_attempt
        times = [at for at in self.accepted_times if at <= end]
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return len(times) / span if span > 0 else 0.0

    @property
    def max_gap(self) -> float:
        """Longest pause between two consecutive requests before the retry tail (stalls)."""
        end = self.last_first_attempt
        times = sorted(at for at, _, _ in self.report["events"] if at <= end)
        return max((b - a for a, b in pairwise(times)), default=0.0)

    def rejected(self, code: str) -> int:
        return int(self.report["rejected"].get(code, 0))

    @property
    def violations(self) -> int:
        return len(self.report["violations"])

    @property
    def max_in_1s(self) -> int:
        return max_in_window(self.accepted_times, 1.0)

    def lost(self) -> int:
        """Reachable chats that got nothing."""
        delivered = self.report["delivered_to"]
        return sum(1 for chat_id in self.extra["reachable"] if delivered.get(chat_id, 0) == 0)

    def duplicates(self) -> dict[Any, int]:
        return {c: n for c, n in self.report["delivered_to"].items() if n > 1}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def make_bot(base_url: str, token: str) -> Bot:
    """Like bot.factory.create_bot, pointed at the fake."""
    return Bot(
        token=token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


# --------------------------------------------------------------------------------------- phases
async def enqueue(database: Database, chat_ids: list[int], batch: int) -> tuple[float, int]:
    """One broadcast row, then every recipient through OutboxRepository.enqueue, one
    transaction per `batch`. Returns (seconds, rows added); only the enqueueing is timed."""
    async with database.sessions() as session:
        repos = Repositories(session)
        broadcast_id = await repos.outbox.create_broadcast("bench", None, None)
        await repos.outbox.set_broadcast_total(broadcast_id, len(chat_ids))
        await repos.commit()
    added = 0
    started = time.perf_counter()
    for offset in range(0, len(chat_ids), batch):
        async with database.sessions() as session:
            repos = Repositories(session)
            for chat_id in chat_ids[offset : offset + batch]:
                added += await repos.outbox.enqueue(
                    Notification(
                        key=f"bench:{broadcast_id}:{chat_id}",
                        chat_id=chat_id,
                        template=PLAIN_TEXT,
                        params={"text": TEXT},
                        locale="zh",
                        broadcast_id=broadcast_id,
                    )
                )
            await repos.commit()
    return time.perf_counter() - started, added


async def enqueue_probe(database: Database, chat_id: int, after: float) -> float:
    """After `after` seconds, queue one ordinary (non-broadcast) notification, as a handler
    would mid-broadcast; returns when it was committed (time.monotonic)."""
    await asyncio.sleep(after)
    async with database.sessions() as session:
        repos = Repositories(session)
        await repos.outbox.enqueue(
            Notification(
                key="bench:probe",
                chat_id=chat_id,
                template=PLAIN_TEXT,
                params={"text": "probe"},
                locale="zh",
            )
        )
        await repos.commit()
    return time.monotonic()


async def run_outbox(
    database: Database,
    bot: Bot,
    settings: SenderSettings,
    timeout: float,
    probe: tuple[int, float] | None,
) -> tuple[float, dict[Status, int], float | None]:
    """Drain the queue with the real worker; returns (wall seconds, row counts by status,
    when the probe was enqueued)."""
    transport = TelegramTransport(bot, create_i18n("zh"), create_renderers())
    worker = OutboxWorker(database, transport, settings)
    started = time.monotonic()
    probe_task = asyncio.create_task(enqueue_probe(database, *probe)) if probe else None
    await worker.drain(timeout=timeout)
    if probe_task is not None and not probe_task.done():
        # The broadcast drained before the probe was due: send the probe too.
        await probe_task
        await worker.drain(timeout=timeout)
    wall = time.monotonic() - started
    async with database.sessions() as session:
        counts = await Repositories(session).outbox.counts()
    probe_at = probe_task.result() if probe_task is not None else None
    return wall, counts, probe_at


async def run_bare(bot: Bot, chat_ids: list[int], rate: float) -> tuple[float, Counter[str]]:
    """`bot.send_message` to every chat, started on a drift-free 1/rate grid by a sleep loop.
    No database, no retries, no 429 handling: the ceiling the outbox is compared against."""
    outcomes: Counter[str] = Counter()
    tasks: set[asyncio.Task[None]] = set()

    async def one(chat_id: int) -> None:
        try:
            await bot.send_message(chat_id, TEXT, request_timeout=30)
            outcomes["sent"] += 1
        except TelegramAPIError as exc:
            outcomes[type(exc).__name__] += 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    for i, chat_id in enumerate(chat_ids):
        delay = started + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(chat_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*list(tasks))
    return loop.time() - started, outcomes


# --------------------------------------------------------------------------------------- main
async def main_async(args: argparse.Namespace) -> int:
    n = args.recipients
    chat_ids = [FIRST_CHAT_ID + i for i in range(n)]
    rng = random.Random(SEED)
    forbidden = set(rng.sample(chat_ids, round(n * args.forbidden)))
    reachable = set(chat_ids) - forbidden
    limits = {
        "global_per_second": args.limit,
        "forbidden_chats": forbidden,
        "server_error_rate": args.server_errors,
        "seed": SEED,
    }

    tmp = None
    if args.db:
        db_path = Path(args.db)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="outbox-bench-")
        db_path = Path(tmp.name) / "bench.db"

    server = FakeServer()
    await server.start()
    database = create_database(f"sqlite+aiosqlite:///{db_path}")
    try:
        await migrate.upgrade(database.engine)
        rss_start = peak_rss_mb()
        enqueue_s, added = await enqueue(database, chat_ids, args.batch)
        rss_enqueued = peak_rss_mb()
        print(
            f"enqueued {added} rows in {enqueue_s:.2f} s ({added / enqueue_s:,.0f} rows/s, "
            f"{args.batch}/transaction); sending at {args.rate:g}/s "
            f"(≈{n / args.rate:.0f} s)…",
            flush=True,
        )

        await server.set_limits(**limits)
        settings = SenderSettings(rate_per_second=args.rate)
        async with make_bot(server.base_url, server.token) as bot:
            probe = (PROBE_CHAT_ID, args.probe_at * n / args.rate) if args.probe_at else None
            wall, counts, probe_at = await run_outbox(
                database, bot, settings, timeout=3 * n / args.rate + 300, probe=probe
            )
        outbox = Phase("outbox", wall, await server.report(), {"counts": counts})
        outbox.extra["reachable"] = reachable | ({PROBE_CHAT_ID} if probe else set())
        if probe_at is not None:
            delivered = [
                at for at, chat_id in outbox.report["accepted"] if chat_id == PROBE_CHAT_ID
            ]
            outbox.extra["probe"] = (
                probe_at - outbox.report["events"][0][0],  # since the first send
                delivered[0] - probe_at if delivered else None,
            )
        rss_outbox = peak_rss_mb()

        bare = None
        if not args.no_baseline:
            print("outbox drained; running the bare baseline…", flush=True)
            await server.set_limits(**limits)
            async with make_bot(server.base_url, server.token) as bot:
                wall, outcomes = await run_bare(bot, chat_ids, args.rate)
            bare = Phase("bare", wall, await server.report(), {"outcomes": outcomes})
            bare.extra["reachable"] = reachable
        db_mb = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 2**20
    finally:
        await database.dispose()
        await server.stop()
        if tmp is not None:
            tmp.cleanup()

    print_report(args, outbox, bare, forbidden, enqueue_s, added, db_mb,
                 (rss_start, rss_enqueued, rss_outbox))  # fmt: skip
    lost, duplicates = outbox.lost(), len(outbox.duplicates())
    ok = lost == 0 and duplicates == 0 and outbox.violations == 0
    print("RESULT:", "OK" if ok else "FAIL (lost, duplicates or violations)")
    return 0 if ok else 1


def print_report(
    args: argparse.Namespace,
    outbox: Phase,
    bare: Phase | None,
    forbidden: set[int],
    enqueue_s: float,
    added: int,
    db_mb: float,
    rss: tuple[float, float, float],
) -> None:
    counts: dict[Status, int] = outbox.extra["counts"]
    rows: list[tuple[str, str, str]] = []

    def row(label: str, a: object, b: object = "") -> None:
        rows.append((label, str(a), str(b) if bare is not None else ""))

    def both(label: str, fn: Any) -> None:
        row(label, fn(outbox), fn(bare) if bare is not None else "")

    row("", "outbox", "bare loop")
    both("send wall time (s)", lambda p: f"{p.wall:.1f}")
    both("accepted sends", lambda p: p.accepted)
    both("accepted rate (/s)", lambda p: f"{p.accepted_rate:.2f}")
    both(f"  ÷ enforced limit {args.limit}", lambda p: f"{p.accepted_rate / args.limit:.3f}")
    both(f"  ÷ configured rate {args.rate:g}", lambda p: f"{p.accepted_rate / args.rate:.3f}")
    both("steady accepted rate, no tail (/s)", lambda p: f"{p.steady_rate:.2f}")
    both(f"  ÷ configured rate {args.rate:g}", lambda p: f"{p.steady_rate / args.rate:.3f}")
    both("request rate, all answers (/s)", lambda p: f"{p.request_rate:.2f}")
    both("longest pause between requests (s)", lambda p: f"{p.max_gap:.3f}")
    both("max accepted in any 1 s", lambda p: p.max_in_1s)
    both("429 answers", lambda p: p.rejected("429"))
    both("violations (sent in flood wait)", lambda p: p.violations)
    both("403 answers", lambda p: p.rejected("403"))
    both("500 answers", lambda p: p.rejected("500"))
    both("retry tail (s)", lambda p: f"{p.retry_tail:.1f}")
    both("lost (reachable, got 0)", lambda p: p.lost())
    both("duplicates (chats got >1)", lambda p: len(p.duplicates()))
    row("rows sent", counts[Status.SENT], "")
    row("rows unreachable", counts[Status.UNREACHABLE], "")
    row("rows failed", counts[Status.FAILED], "")
    row("rows left queued/sending", counts[Status.QUEUED] + counts[Status.SENDING], "")

    width = max(len(r[0]) for r in rows) + 2
    print()
    print(
        f"recipients {args.recipients} ({len(forbidden)} forbidden, server errors "
        f"{args.server_errors:g}); limit {args.limit}/s, sender rate {args.rate:g}/s"
    )
    print(
        f"enqueue: {added} rows in {enqueue_s:.2f} s = {added / enqueue_s:,.0f} rows/s "
        f"({args.batch} per transaction); database {db_mb:.1f} MB"
    )
    for label, a, b in rows:
        print(f"{label:<{width}}{a:>10}  {b:>10}")
    print(
        f"peak RSS (MB): {rss[0]:.1f} after imports + migrate, {rss[1]:.1f} after enqueue, "
        f"{rss[2]:.1f} after outbox send; fake server (own process) "
        f"{outbox.report['server_peak_rss_kb'] / 1024:.1f}"
    )
    if "probe" in outbox.extra:
        queued_at, latency = outbox.extra["probe"]
        waited = f"{latency:.1f} s" if latency is not None else "never"
        print(
            f"probe: 1 ordinary notification queued {queued_at:.1f} s into the broadcast "
            f"was delivered after {waited}"
        )
    if bare is not None and bare.accepted_rate and bare.steady_rate:
        print(
            f"outbox / bare accepted rate: {outbox.accepted_rate / bare.accepted_rate:.3f} "
            f"(steady, without the retry tail: {outbox.steady_rate / bare.steady_rate:.3f})"
        )
        print(f"bare loop outcomes: {dict(bare.extra['outcomes'])}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="sender rate_per_second")
    parser.add_argument("--limit", type=int, default=30, help="fake's global sends per second")
    parser.add_argument("--forbidden", type=float, default=0.01, help="fraction of chats (403)")
    parser.add_argument("--server-errors", type=float, default=0.01, help="500 probability")
    parser.add_argument("--db", help="SQLite file to create (default: in a temp dir)")
    parser.add_argument("--batch", type=int, default=1_000, help="rows per enqueue transaction")
    parser.add_argument(
        "--probe-at",
        type=float,
        default=0.25,
        help="queue one ordinary notification this far into the broadcast (fraction of "
        "recipients/rate; 0: none) and report how long it waited",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare loop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db and Path(args.db).exists():
        sys.exit(f"{args.db} exists; the bench wants a fresh database")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
