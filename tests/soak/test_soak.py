"""A short soak on both topologies (bench/soak): the whole union at once while things break,
each invariant checked by code. `python -m bench.soak --minutes 3` is the full run.

At `--minutes 0.2` every kind of traffic is there (scaled down: 133 on the roster, 66 answering,
6 letters in the three modes, 2 proposals, registrations, /mydata and an erasure) and every
fault of the topology. The scale-out topology starts its own PostgreSQL and Redis (it restarts
them), so it needs the Debian packages `.ci/run` installs; without TEST_DATABASE_URL /
TEST_REDIS_URL it is skipped. The two are in different xdist groups (`--dist loadgroup` puts
them on different workers when there are two).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import TEST_DATABASE_URL, TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
INVARIANTS = (
    "survey answers exactly once",
    "letters exactly once",
    "proposals, co-signs and ratings exactly once",
    "registrations and approvals kept",
    "invitations reach each reachable member once",
    "digests reach each recipient once",
    "no Telegram limit violated",
    "every update handled, also those sent while something was down",
    "no anonymous answer or letter linkable to its sender",
    "the erased member leaves no trace",
    "no unhandled exception in the logs",
    "memory after within the bound",
    "every flow went through",
)
MINUTES = "0.2"


def soak(topology: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", MINUTES, "--topology", topology],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "BOT_TOKEN": ""},
    )  # fmt: skip


def verdict(run: subprocess.CompletedProcess[str]) -> str:
    lines = run.stdout.strip().splitlines()
    return lines[-1] if lines else run.stderr[-2000:]


def check(run: subprocess.CompletedProcess[str]) -> None:
    assert verdict(run) == "soak: OK", run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode == 0
    for invariant in INVARIANTS:  # each one checked and printed, not just the last line
        assert f"ok   {invariant}:" in run.stdout, invariant


@pytest.mark.xdist_group("soak-sqlite")
def test_a_short_soak_on_sqlite_holds_every_invariant() -> None:
    check(soak("sqlite"))


@pytest.mark.xdist_group("soak-scaleout")
def test_a_short_soak_on_two_webhook_instances_holds_every_invariant() -> None:
    if TEST_DATABASE_URL is None or TEST_REDIS_URL is None:
        pytest.skip("scale-out soak: set TEST_DATABASE_URL and TEST_REDIS_URL (`.ci/run`)")
    check(soak("scaleout"))
