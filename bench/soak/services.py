"""The soak's own PostgreSQL and Redis servers (it restarts them, so it cannot borrow the test
servers). Set up like .ci/services.sh (throwaway data directory, loopback only, no fsync) but
with synchronous commits, since the soak kills the server; Redis without persistence (the
set-up docs/deploy.md recommends for the anonymous mailbox)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Postgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "pg"
        self.data = self.directory / "data"
        self.port = free_port()
        self.bin = _pg_bin()
        self.url = f"postgresql+asyncpg://unionvoice@127.0.0.1:{self.port}/unionvoice"

    def start(self) -> None:
        if not self.data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            self.directory.parent.chmod(0o755)  # mkdtemp's 0700 would lock the postgres user out
            if os.getuid() == 0:
                shutil.chown(self.directory, "postgres")
            done = subprocess.run(
                _as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", "unionvoice",
                           "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                capture_output=True,
            )  # fmt: skip
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stderr.decode()[-500:]}")
        # synchronous_commit stays on, as in production: the soak's "immediate stop" kills the
        # server, and with it off a commit is acknowledged before its WAL is written, so the
        # last fraction of a second of acknowledged steps vanished with the kill (a letter, a
        # reply and a registration the bot had confirmed, in one run). fsync=off is still
        # faithful: the WAL reaches the kernel at commit, and the machine does not crash.
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off "
            "-c synchronous_commit=on -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                       str(self.directory / "server.log"), "-w", "-o", options, "start"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def create_database(self) -> None:
        subprocess.run(
            _as_owner([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", "unionvoice", "unionvoice"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            capture_output=True,
        )

    async def restart(self, down_for: float) -> None:
        """Down for about `down_for` seconds: connections break, new ones are refused."""
        await asyncio.to_thread(self.stop, "immediate")
        await asyncio.sleep(down_for)
        await asyncio.to_thread(self.start)


class Redis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                import time

                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    async def restart(self, down_for: float) -> None:
        self.stop()
        await asyncio.sleep(down_for)
        await asyncio.to_thread(self.start)
