"""CLI start-up: `unionvoice members list --format json` and `unionvoice survey list` on an
upgraded database, against `python -c pass` and `python -c "import sqlalchemy"`, measured
alternately in the same run.

    python -m bench.cli_bench [--members 200] [--repeat 5] [--no-bytecode-cache]

Prints the median wall time of each (a fresh process every time) and the ratios. Every command
runs once untimed first, with Python's bytecode cache in the bench's temporary folder, as an
installed program runs (pip compiles it); `--no-bytecode-cache` compiles the project's modules
on every run instead (what PYTHONDONTWRITEBYTECODE=1 does to a source checkout).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEMBERS_LIST = "unionvoice members list --format json"
SURVEY_LIST = "unionvoice survey list"


def _seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


async def _prepare(path: Path, members: int) -> None:
    from bench.survey_bench import prepare_database

    await prepare_database(path, members, 1, 10_000)


def _environment(workdir: Path, bytecode_cache: bool) -> dict[str, str]:
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")  # not in the source tree
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def main(members: int, repeat: int, bytecode_cache: bool = True) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="unionvoice-cli-bench-"))
    try:
        database = workdir / "cli.db"
        asyncio.run(_prepare(database, members))
        config = workdir / "unionvoice.toml"
        config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n')
        cli = [sys.executable, "-m", "bot.cli", "--config", str(config)]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
            MEMBERS_LIST: [*cli, "members", "list", "--format", "json"],
            SURVEY_LIST: [*cli, "survey", "list"],
        }
        env = _environment(workdir, bytecode_cache)
        for command in commands.values():  # untimed: fills the bytecode cache, warms the disk
            _seconds(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):  # alternately, so load changes hit all of them alike
            for name, command in commands.items():
                times[name].append(_seconds(command, env))
        median = {name: statistics.median(found) for name, found in times.items()}
        cache = "bytecode cached" if bytecode_cache else "no bytecode cache"
        print(f"CLI start-up, {members} members, median of {repeat} (fresh process each, {cache}):")
        for name, seconds in median.items():
            spread = f"{min(times[name]):.2f}–{max(times[name]):.2f}"
            print(f"  {name:40s}: {seconds:6.2f} s  ({spread})")
        bare, sqlalchemy = median["python -c pass"], median['python -c "import sqlalchemy"']
        for name in (MEMBERS_LIST, SURVEY_LIST):
            label = "" if name == MEMBERS_LIST else f" ({name.removeprefix('unionvoice ')})"
            print(f"  {'ratio vs python -c pass' + label:40s}: {median[name] / bare:6.2f}")
            print(f"  {'ratio vs import sqlalchemy' + label:40s}: {median[name] / sqlalchemy:6.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--no-bytecode-cache",
        dest="bytecode_cache",
        action="store_false",
        help="compile the project's modules on every run (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args()
    main(args.members, args.repeat, args.bytecode_cache)
