"""CLI start-up: `unionvoice members list --format json` on an upgraded database, against
`python -c pass` and `python -c "import sqlalchemy"`, measured alternately in the same run.

    python -m bench.cli_bench [--members 200] [--repeat 5]

Prints the median wall time of each (a fresh process every time) and the two ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def _prepare(path: Path, members: int) -> None:
    from bench.survey_bench import prepare_database

    await prepare_database(path, members, 1, 10_000)


def main(members: int, repeat: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="unionvoice-cli-bench-"))
    try:
        database = workdir / "cli.db"
        asyncio.run(_prepare(database, members))
        config = workdir / "unionvoice.toml"
        config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n')
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
            "unionvoice members list --format json": [
                sys.executable,
                "-m",
                "bot.cli",
                "--config",
                str(config),
                "members",
                "list",
                "--format",
                "json",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):  # alternately, so load changes hit all three alike
            for name, command in commands.items():
                times[name].append(_seconds(command))
        median = {name: statistics.median(found) for name, found in times.items()}
        cli = median["unionvoice members list --format json"]
        print(f"CLI start-up, {members} members, median of {repeat} (fresh process each):")
        for name, seconds in median.items():
            spread = f"{min(times[name]):.2f}–{max(times[name]):.2f}"
            print(f"  {name:40s}: {seconds:6.2f} s  ({spread})")
        print(f"  ratio vs python -c pass                 : {cli / median['python -c pass']:6.2f}")
        sqlalchemy = median['python -c "import sqlalchemy"']
        print(f"  ratio vs import sqlalchemy              : {cli / sqlalchemy:6.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    main(args.members, args.repeat)
