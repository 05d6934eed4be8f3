"""Where an answer's time goes: the survey bench's updates through unionvoice alone, under
cProfile, one kind of update at a time.

    python -m bench.profile_answers [--kind rate|start|submit|all] [--out answers.prof]

Prints the CPU time per update (`time.process_time`: steadier than wall time on a shared
machine) of an unprofiled run, then the profiled updates' own time grouped by package
(aiogram's dispatcher, pydantic, SQLAlchemy, sqlite3, ours by module) and the slowest of our
functions by cumulative time. The full profile is written to --out for `pstats` or snakeviz.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.types import Update

import bench.survey_bench as survey_bench

KINDS = {"start": "s", "rate": "r", "submit": "u"}  # SurveyAction values in the callback data


def _group(stats: pstats.Stats) -> Counter[str]:
    """Own time by package: aiogram by sub-package, ours by module, C functions by name."""
    grouped: Counter[str] = Counter()
    for (path, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if "site-packages/" in path:
            parts = path.split("site-packages/")[1].split("/")
            grouped["/".join(parts[:3]) if parts[0] == "aiogram" else parts[0]] += own
        elif path == "~":
            grouped[f"C: {name[:60]}"] += own
        elif "/bench/" in path or str(Path.cwd()) in path:
            grouped[f"ours: {Path(path).relative_to(Path.cwd())}"] += own
        else:
            grouped[f"stdlib: {Path(path).name}"] += own
    return grouped


async def main(kind: str, out: Path, members: int, questions: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="unionvoice-profile-"))
    try:
        template = workdir / "template.db"
        survey_id = await survey_bench.prepare_database(template, members, questions, 10_000)
        updates = survey_bench.answer_updates(members, questions, survey_id, 10_000)
        wanted = KINDS.get(kind)
        profile = cProfile.Profile()
        cpu: list[float] = []

        async def feed(
            dispatcher: Dispatcher,
            bot: Bot,
            batch: list[Update],
            _concurrency: int,
            _latencies: list[float] | None = None,
        ) -> float:
            started, used = time.perf_counter(), time.process_time()
            for update in batch:
                data = update.callback_query.data if update.callback_query else None
                profiled = wanted is None or (data or "").split(":")[1] == wanted
                if profiled and cpu:  # the second run is the profiled one
                    profile.enable()
                await dispatcher.feed_update(bot, update)
                if profiled and cpu:
                    profile.disable()
            if not cpu:
                cpu.append((time.process_time() - used) / len(batch) * 1000)
            return time.perf_counter() - started

        survey_bench.run_updates = feed
        for run in range(2):
            database = workdir / f"run-{run}.db"
            shutil.copyfile(template, database)
            await survey_bench.run_unionvoice(database, workdir, updates, 1, [])
        profile.dump_stats(out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"CPU per update, unprofiled run: {cpu[0]:.2f} ms ({len(updates)} updates)")
    stats = pstats.Stats(str(out))
    grouped = _group(stats)
    total = sum(grouped.values())
    print(f"\nprofiled updates ({kind}): own time by package, {total:.2f} s in all")
    for name, own in grouped.most_common(25):
        print(f"  {own:7.3f} s {own / total * 100:5.1f} %  {name}")
    print(f"\nfull profile: {out}  (python -m pstats {out})")
    stats.sort_stats("cumulative").print_stats(str(Path.cwd()) + "/(?!.venv|bench)", 25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=[*KINDS, "all"], default="rate")
    parser.add_argument("--out", type=Path, default=Path("answers.prof"))
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.kind, args.out, args.members, args.questions))
