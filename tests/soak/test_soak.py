"""A short soak on both topologies (bench/soak): the whole union at once while things break,
each invariant checked by code. `python -m bench.soak --minutes 3` is the full run.

The scale-out topology starts its own PostgreSQL and Redis (it restarts them), so it needs the
Debian packages `.ci/run` installs; without TEST_DATABASE_URL / TEST_REDIS_URL it is skipped.
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
    "invitations reach each reachable member once",
    "no Telegram limit violated",
    "no anonymous answer or letter linkable",
    "the erased member leaves no trace",
)
MINUTES = "0.25"  # the scenario's floor: every kind of traffic and every fault, ~40 s a topology


def soak(topology: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", MINUTES, "--topology", topology,
         *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={**os.environ, "BOT_TOKEN": ""},
    )  # fmt: skip


def verdict(run: subprocess.CompletedProcess[str]) -> str:
    lines = run.stdout.strip().splitlines()
    return lines[-1] if lines else run.stderr[-2000:]


# Not yet green on every run: the open items are listed in docs/benchmarks.md ("Soak"). Until
# it holds it runs only when asked (UNIONVOICE_SOAK=1), so it costs the CI run no time; then it
# becomes a strict part of the suite.
@pytest.mark.skipif(not os.environ.get("UNIONVOICE_SOAK"), reason="set UNIONVOICE_SOAK=1")
@pytest.mark.xfail(strict=False, reason="open soak findings: docs/benchmarks.md, Soak")
@pytest.mark.parametrize("topology", ["sqlite", "scaleout"])
def test_a_short_soak_holds_every_invariant(topology: str) -> None:
    if topology == "scaleout" and (TEST_DATABASE_URL is None or TEST_REDIS_URL is None):
        pytest.skip("scale-out soak: set TEST_DATABASE_URL and TEST_REDIS_URL (`.ci/run`)")
    run = soak(topology)
    assert verdict(run) == "soak: OK", run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode == 0
    shown = run.stdout
    for invariant in INVARIANTS:
        assert f"ok   {invariant}" in shown, invariant
