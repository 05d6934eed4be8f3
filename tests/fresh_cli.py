"""Runs a `unionvoice` command as its entry point does, in a fresh interpreter, and reports
which of the given modules it loaded: how the start-up tests see what a command imports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

_RUN = """
import json
import sys
from bot.cli import main
code = main(sys.argv[2:])
heavy = json.loads(sys.argv[1])
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps(sorted({h for h in heavy for m in loaded if m == h or m.startswith(h + ".")})),
      file=sys.stderr)
sys.exit(code)
"""


def run_fresh(
    config: Path, command: Sequence[str], watched: Sequence[str], timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The finished process, and which of `watched` (top-level or dotted module names) the
    command loaded."""
    process = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(list(watched)), "--config", str(config), *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )
    lines = process.stderr.splitlines()
    return process, (json.loads(lines[-1]) if lines else [])
