"""One full officer digest vs. one plain SQL scan of the same tables, same database, same run.

    python -m bench.digest_bench            # 1 % and 10 % of the data: ≈ 1 min
    python -m bench.digest_bench --full     # 10 % and 100 % (1,000,000 answers): a few minutes

For each scale: a fresh SQLite file filled by bench.digest_data (Core executemany), then
- the digest: DigestService.compute (every section's SQL, jieba themes) for 2026-W48 plus its
  rendering (HTML messages, XLSX workbook, chart PNG) — jieba and matplotlib warmed up first;
- the baseline: one SELECT per table the digest reads that touches every row
  (count and sums over the columns), i.e. what reading all the data once costs.
Both are timed three times alternately; the medians, the ratio (goal ≤ 3) and the peak memory
of building the digest (tracemalloc, a separate run) are printed. Aggregation is in SQL: the
peak should stay flat as the data grows.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.digest_data import generate
from bot.config import parse_config
from bot.services import Services
from digest.keywords import keywords
from digest.period import Period
from digest.render import render_chart, render_messages, render_workbook
from digest.sections.base import OFFICERS
from digest.service import english
from storage import migrate
from storage.database import Database, create_database
from storage.uow import unit_of_work

PERIOD = Period(2026, 48)
BUILT = datetime(2026, 11, 30, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
SCAN = [
    "SELECT count(*), sum(number), sum(length(text)), sum(length(option)) FROM survey_answers",
    "SELECT count(*), sum(length(department)), max(submitted_on) FROM survey_responses",
    "SELECT count(*), sum(done) FROM survey_participants",
    "SELECT count(*), sum(length(definition)) FROM surveys",
    "SELECT count(*), sum(length(body)), max(submitted_at), max(answered_at) FROM proposals",
    "SELECT count(*), sum(length(note)) FROM proposal_events",
    "SELECT count(*), max(due_on) FROM improvement_actions",
    "SELECT count(*), sum(length(body)), max(created_at), max(first_reply_at) FROM mailbox_letters",
]


async def compute_digest(database: Database) -> dict:
    """Every section of one full officer digest: its SQL and the jieba themes."""
    async with unit_of_work(database.sessions) as repos:
        service = Services(parse_config({}), clock=lambda: BUILT).digest(repos)
        return await service.compute(PERIOD, OFFICERS)


def render_digest(data: dict) -> int:
    """What is sent: the HTML messages, the workbook and the chart."""
    parts = render_messages(data, english(None), None)
    render_workbook(data)
    render_chart(data, english(None))
    return sum(len(part) for part in parts)


async def build_digest(database: Database) -> tuple[float, float]:
    """(seconds computing, seconds rendering) of one full officer digest."""
    start = time.perf_counter()
    data = await compute_digest(database)
    computed = time.perf_counter()
    render_digest(data)
    return computed - start, time.perf_counter() - computed


async def scan(database: Database) -> None:
    async with database.engine.connect() as connection:
        for statement in SCAN:
            (await connection.execute(text(statement))).all()


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def run_scale(scale: float, directory: Path) -> dict[str, float]:
    path = directory / f"digest-{scale}.db"
    database = create_database(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(database.engine)
        started = time.perf_counter()
        counts = await generate(database.engine, scale)
        generated = time.perf_counter() - started
        rows = counts["rows"]
        print(
            f"scale {scale:g}: {counts['answers']:,} answers, {counts['responses']:,} responses, "
            f"{counts['proposals']:,} proposals, {counts['members']:,} members "
            f"— {rows:,} rows generated and inserted in {generated:.1f} s "
            f"({rows / generated:,.0f} rows/s)",
            flush=True,
        )
        await scan(database)  # warm the page cache for both
        compute_times, render_times, scan_times = [], [], []
        for _ in range(3):
            computed, rendered = await build_digest(database)
            compute_times.append(computed)
            render_times.append(rendered)
            scan_times.append(await timed(lambda: scan(database)))
        tracemalloc.start()
        await build_digest(database)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = {
            "scale": scale,
            "answers": counts["answers"],
            "compute": statistics.median(compute_times),
            "render": statistics.median(render_times),
            "digest": statistics.median(
                [c + r for c, r in zip(compute_times, render_times, strict=True)]
            ),
            "scan": statistics.median(scan_times),
            "peak_mb": peak / 1024 / 1024,
            "db_mb": path.stat().st_size / 1024 / 1024,
        }
        print(
            f"  digest {result['digest'] * 1000:,.0f} ms (compute {result['compute'] * 1000:,.0f}"
            f" + render {result['render'] * 1000:,.0f}) · scan {result['scan'] * 1000:,.0f} ms · "
            f"ratio {result['digest'] / result['scan']:.2f} (compute only "
            f"{result['compute'] / result['scan']:.2f}) · digest peak "
            f"{result['peak_mb']:.1f} MB (tracemalloc) · database {result['db_mb']:,.0f} MB",
            flush=True,
        )
        return result
    finally:
        await database.dispose()


async def main(scales: list[float], keep: Path | None) -> None:
    started = time.perf_counter()
    keywords("预热食堂")  # jieba's dictionary: once per process, not part of a digest
    jieba_seconds = time.perf_counter() - started
    render_chart(  # matplotlib and the font: once per process
        {
            "period": PERIOD.key,
            "audience": "officers",
            "first_day": PERIOD.first_day.isoformat(),
            "built_at": BUILT.isoformat(),
            "sections": {},
        },
        english(None),
    )
    print(f"jieba initialised in {jieba_seconds:.1f} s (once per process)")
    directory = keep or Path(tempfile.mkdtemp(prefix="digest-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        results = [await run_scale(scale, directory) for scale in scales]
    finally:
        if keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    print()
    print(
        "| data | answers | one scan | digest: compute | + render | ratio (goal ≤ 3) "
        "| compute only | digest peak (tracemalloc) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['scale'] * 100:g} % | {r['answers']:,} | {r['scan'] * 1000:,.0f} ms | "
            f"{r['compute'] * 1000:,.0f} ms | {r['render'] * 1000:,.0f} ms | "
            f"{r['digest'] / r['scan']:.2f} | {r['compute'] / r['scan']:.2f} | "
            f"{r['peak_mb']:.1f} MB |"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (includes generating the data): {rss:,.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="10 %% and 100 %% of the data")
    parser.add_argument("--scale", type=float, action="append", help="scale(s) to run instead")
    parser.add_argument("--keep", type=Path, default=None, help="keep the databases here")
    args = parser.parse_args()
    chosen = args.scale or ([0.1, 1.0] if args.full else [0.01, 0.1])
    asyncio.run(main(chosen, args.keep))
