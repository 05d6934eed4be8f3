"""A day in the life under faults: the whole union at once, while things break.

    python -m bench.soak [--minutes 3] [--topology sqlite|scaleout|both] [--plant FAULT]

Topologies: one `unionvoice run` on SQLite, long polling; two in webhook mode on PostgreSQL +
Redis behind a round-robin front. The run prints its fault schedule, then each invariant with
its count, and ends with `soak: OK` or `soak: FAILED <invariants>` (exit status 1).
`--plant skip-processed-update` starts the instances with that fault monkeypatched in (see
bench/soak/plant.py) to show the run catches it. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.soak import scenario as sc
from bench.soak.invariants import Judge, Verdict
from bench.soak.plant import PLANTS
from bench.soak.services import Postgres, Redis
from bench.soak.telegram import SoakLimits, SoakTelegram, buttons
from bench.soak.topology import (
    Delivery,
    Front,
    Instance,
    PollingDelivery,
    Settings,
    WebhookDelivery,
)

MEMORY_BOUND_MB = 150


@dataclass
class Fault:
    at: float  # seconds after the load started
    name: str
    action: Callable[[], Awaitable[None]]
    done_at: float = 0.0
    note: str = ""


@dataclass
class Outcome:
    topology: str
    verdicts: list[Verdict]
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


def log(text: str) -> None:
    print(text, flush=True)


async def seed(db_url: str, world: sc.World) -> int:
    """The roster, the members already registered and the survey due to open (the leader's
    first sweep opens it and invites everyone: the broadcast)."""
    from members.roles import Role
    from members.roster import RosterRow
    from members.service import CONSENT_VERSION, MembershipService
    from storage import migrate
    from storage.base import utcnow
    from storage.database import create_database
    from storage.uow import unit_of_work
    from surveys.service import SurveyService

    database = create_database(db_url)
    try:
        await migrate.upgrade(database.engine)
        rows = [
            RosterRow(line=i, employee_id=p.employee_id, name=p.name, department=p.department,
                      roles=frozenset(Role(r) for r in p.roles.split(";")) if p.roles else None)
            for i, p in enumerate(world.people, start=2)
        ]  # fmt: skip
        async with unit_of_work(database.sessions) as repos:
            await MembershipService(repos).import_roster(rows)
        async with unit_of_work(database.sessions) as repos:
            for person in world.registered:
                member = await repos.members.get_by_employee_id(person.employee_id)
                assert member is not None
                await repos.members.link_telegram(
                    member.id, person.telegram_id, locale="zh",
                    consent_version=CONSENT_VERSION, now=utcnow(),
                )  # fmt: skip
            survey, _ = await SurveyService(repos).import_definition(sc.SURVEY_SOURCE, "soak.toml")
            await repos.commit()
            return survey.id
    finally:
        await database.dispose()


async def member_id_of(db_url: str, employee_id: str) -> int | None:
    from storage.database import create_database
    from storage.uow import unit_of_work

    database = create_database(db_url)
    try:
        async with unit_of_work(database.sessions) as repos:
            member = await repos.members.get_by_employee_id(employee_id)
            return None if member is None else member.id
    finally:
        await database.dispose()


async def outbox_busy(db_url: str) -> int:
    from sqlalchemy import text

    from storage.database import create_database

    database = create_database(db_url)
    try:
        async with database.engine.connect() as connection:
            return int(
                await connection.scalar(
                    text(
                        "SELECT count(*) FROM outbox_messages WHERE status IN ('queued','sending')"
                    )
                )
                or 0
            )
    except Exception:  # the database is being restarted: not idle
        return 1
    finally:
        await database.dispose()


class Run:
    def __init__(self, topology: str, minutes: float, plant: str, directory: Path) -> None:
        self.topology = topology
        self.scaleout = topology == "scaleout"
        self.minutes = minutes
        self.duration = minutes * 60
        self.plant = plant
        self.directory = directory
        self.scale = sc.Scale.for_minutes(minutes)
        self.world = sc.World.build(self.scale)
        self.settings = Settings()
        self.instances: list[Instance] = []
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None
        self.kills = 0
        self.faults: list[Fault] = []
        self.rss_before: dict[str, int] = {}

    # -- set-up ----------------------------------------------------------------------------------
    async def start_services(self) -> str:
        if not self.scaleout:
            return f"sqlite+aiosqlite:///{self.directory / 'unionvoice.db'}"
        self.postgres = Postgres(self.directory)
        self.redis = Redis(self.directory)
        await asyncio.to_thread(self.postgres.start)
        await asyncio.to_thread(self.postgres.create_database)
        await asyncio.to_thread(self.redis.start)
        return self.postgres.url

    async def wait_ready(self, http: aiohttp.ClientSession, fake: SoakTelegram,
                         instances: list[Instance], timeout: float = 90) -> None:  # fmt: skip
        deadline = time.monotonic() + timeout
        for instance in instances:
            while not await instance.ready(http, fake, self.scaleout):
                if not instance.alive and instance.process is not None:
                    raise RuntimeError(
                        f"{instance.name} exited:\n{instance.log.read_text()[-3000:]}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{instance.name} not ready:\n{instance.log.read_text()[-3000:]}"
                    )
                await asyncio.sleep(0.2)
            self.rss_before[instance.name] = instance.rss_kb()

    # -- faults ----------------------------------------------------------------------------------
    def schedule(self, fake: SoakTelegram, http: aiohttp.ClientSession, _db_url: str) -> None:
        d = self.duration
        limits = fake.limits
        reachable = len(
            [p for p in self.world.registered if p.telegram_id not in self.world.blocked]
        )

        async def kill_mid_broadcast() -> None:
            # Wait until a third of the invitations went out, then kill the instance sending.
            while len(limits.accepted) < reachable // 3:  # noqa: ASYNC110 (the fake's counter)
                await asyncio.sleep(0.05)
            victim = self.instances[0]
            if self.scaleout:
                for instance in self.instances:
                    if (await instance.health(http)).get("leader"):
                        victim = instance
            victim.kill()
            self.kills += 1
            sent = len(limits.accepted)
            await victim.process.wait()  # type: ignore[union-attr]
            await asyncio.sleep(2)
            victim.polls_at_start = fake.method_counts["getupdates"]
            await victim.start()
            await self.wait_ready(http, fake, [victim], timeout=300)
            self.faults[0].note = f"{victim.name} killed after {sent} sends, restarted"

        async def flood_wait() -> None:
            limits.inject_flood_wait(5)

        async def server_errors() -> None:
            limits.server_errors_on = True
            await asyncio.sleep(max(6.0, d * 0.08))
            limits.server_errors_on = False

        async def slow_disk() -> None:
            # Another connection holds SQLite's write lock, as a stalled disk would (4 s:
            # inside the bot's busy_timeout of 5 s).
            path = str(self.directory / "unionvoice.db")

            def hold() -> None:
                connection = sqlite3.connect(path, timeout=30, isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                time.sleep(4)
                connection.execute("ROLLBACK")
                connection.close()

            await asyncio.to_thread(hold)

        async def postgres_restart() -> None:
            assert self.postgres is not None
            await self.postgres.restart(5)

        async def redis_restart() -> None:
            assert self.redis is not None
            await self.redis.restart(1)

        self.faults = [Fault(0, "SIGKILL mid-broadcast, restart after 2 s", kill_mid_broadcast)]
        if self.scaleout:
            self.faults += [
                Fault(
                    d * 0.30, "PostgreSQL down 5 s (immediate stop), restarted", postgres_restart
                ),
                Fault(
                    d * 0.45, "Redis restarted (no persistence: its keys are gone)", redis_restart
                ),
                Fault(d * 0.55, "flood wait: every send 429 for 5 s", flood_wait),
                Fault(
                    d * 0.65,
                    f"Bot API answers 502 to sends for {max(6.0, d * 0.08):.0f} s",
                    server_errors,
                ),
            ]
        else:
            self.faults += [
                Fault(d * 0.35, "flood wait: every send 429 for 5 s", flood_wait),
                Fault(
                    d * 0.50,
                    f"Bot API answers 502 to sends for {max(6.0, d * 0.08):.0f} s",
                    server_errors,
                ),
                Fault(
                    d * 0.65, "slow disk: SQLite write lock held 4 s by another process", slow_disk
                ),
            ]
        taps, appends = ("4%", "15%") if self.plant == "none" else ("25%", "all")
        self.faults.append(Fault(0, f"duplicate deliveries ({taps} of taps, {appends} of the "
                                 "steps that add to a letter or proposal) and out-of-order "
                                 "pairs (half the letters), all along", _nothing))  # fmt: skip

    async def run_faults(self, started: float) -> None:
        async def one(fault: Fault) -> None:
            await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
            began = time.monotonic()
            await fault.action()
            fault.done_at = time.monotonic() - started
            log(f"  fault at +{began - started:5.1f}s: {fault.name} {fault.note}".rstrip())

        await asyncio.gather(*(one(f) for f in self.faults))

    # -- the run ---------------------------------------------------------------------------------
    async def execute(self) -> Outcome:
        began = time.monotonic()
        db_url = await self.start_services()
        survey_id = await seed(db_url, self.world)
        limits = SoakLimits(global_per_second=30, per_chat_per_second=3, retry_after=1,
                            forbidden_chats=self.world.blocked)  # fmt: skip
        fake = SoakTelegram(limits)
        await fake.start()
        redis_url = self.redis.url if self.redis else ""
        names = ["a", "b"] if self.scaleout else ["solo"]
        for name in names:
            self.instances.append(Instance(
                name, self.directory, db_url=db_url, api_base=fake.base_url, redis_url=redis_url,
                webhook=self.scaleout, settings=self.settings, plant=self.plant,
            ))  # fmt: skip
        front: Front | None = None
        delivery: Delivery
        if self.scaleout:
            front = Front(self.instances)
            await front.start()
            delivery = WebhookDelivery(fake, front)
        else:
            delivery = PollingDelivery(fake)
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        outcome = Outcome(self.topology, [])
        try:
            for instance in self.instances:
                await instance.start()
            await self.wait_ready(http, fake, self.instances)
            # A planted fault is shown with more duplicates: every appending step twice.
            rates = (0.04, 0.15) if self.plant == "none" else (0.25, 1.0)
            soak = sc.Soak(fake, delivery, self.world, self.scale, self.duration, survey_id,
                           duplicate_rate=rates[0], append_duplicate_rate=rates[1])  # fmt: skip
            self.soak = soak
            self.schedule(fake, http, db_url)
            log(f"[{self.topology}] roster {self.scale.roster}, registered {self.scale.registered}"
                f", answering {self.scale.answering}, letters {self.scale.letters}, proposals "
                f"{self.scale.proposals}, registrations {self.scale.registrations}, /mydata "
                f"{self.scale.mydata} + 1 erasure; load {self.duration:.0f} s; "
                f"plant {self.plant}")  # fmt: skip
            log("  fault schedule: " + "; ".join(f"+{f.at:.0f}s {f.name}" for f in self.faults))
            started = time.monotonic()
            soak.started = started
            setup_seconds = started - began
            actors = self.actors(soak)
            background = [asyncio.create_task(t) for t in self.background(soak)]
            faults = asyncio.create_task(self.run_faults(started))
            tasks = [asyncio.create_task(a) for a in actors]
            done, pending = await asyncio.wait(tasks, timeout=self.duration + soak.grace + 120)
            # Slow is not stuck: a member invited late may still be answering. Wait on while
            # members keep sending (up to 5 more minutes); stuck is 30 s without an update.
            extended_until = time.monotonic() + 300
            while pending and time.monotonic() < extended_until:
                last = max((r.at for r in delivery.records.values()), default=started)
                if time.monotonic() - last > 30:
                    break
                finished, pending = await asyncio.wait(pending, timeout=10)
                done |= finished
            for task in done:
                if task.exception() is not None:
                    soak.problem(f"actor crashed: {task.exception()!r}")
            for task in pending:
                task.cancel()
            if pending:
                soak.problem(f"{len(pending)} actors still busy after the load")
            await faults
            load_seconds = time.monotonic() - started
            for task in [*background, *self.officer.tasks, *self.reader.tasks]:
                task.cancel()  # nobody acts any more; what was sent is finished
            drained = time.monotonic()
            await self.drain(fake, db_url)
            drain_seconds = time.monotonic() - drained
            if isinstance(delivery, PollingDelivery):
                delivery.settle()
            memory = {i.name: (self.rss_before.get(i.name, 0), i.rss_kb()) for i in self.instances}
            for instance in self.instances:
                await instance.stop()
            erased = soak.ledger.erased
            from storage.database import create_database

            database = create_database(db_url)
            try:
                judge = Judge(
                    database=database, db_url=db_url, redis_url=redis_url, world=self.world,
                    ledger=soak.ledger, fake=fake, delivery=delivery, survey_id=survey_id,
                    max_in_flight=self.settings.max_in_flight, kills=self.kills,
                    logs=[i.log for i in self.instances], memory=memory,
                    memory_bound_mb=MEMORY_BOUND_MB, erased_member_id=self.erased_member_id,
                )  # fmt: skip
                judged = time.monotonic()
                outcome.verdicts = await judge.run()
                judge_seconds = time.monotonic() - judged
            finally:
                await database.dispose()
            del erased
            records = len(delivery.records)
            sends = len(limits.accepted)
            span = max(1e-6, fake.last_call_at - fake.first_call_at)
            # The members' traffic: until 99 % of the updates had been sent (a few people
            # keep looking at a letter's receipt until the deadline, long after the rest).
            sent_at = sorted(r.at for r in delivery.records.values()) or [started]
            last_of_99 = sent_at[max(0, round(len(sent_at) * 0.99) - 1)]
            traffic = max(1e-6, last_of_99 - started)
            per_minute = Counter(int((r.at - started) // 60) for r in delivery.records.values())
            self.write_calls(fake)
            outcome.figures = {
                "load_s": load_seconds, "traffic_s": traffic, "updates": records,
                "updates_per_s": 0.99 * records / traffic,
                "peak_per_s": max(per_minute.values(), default=0) / 60,
                "sends": sends, "sends_per_s": sends / span, "kills": self.kills,
                "memory": memory, "phases": (setup_seconds, load_seconds, drain_seconds,
                                             judge_seconds),
            }  # fmt: skip
        finally:
            await http.close()
            for instance in self.instances:
                instance.kill()
                await instance.stop()
            if front is not None:
                await front.stop()
            await delivery.close()
            await fake.stop()
            if self.redis is not None:
                self.redis.stop()
            if self.postgres is not None:
                await asyncio.to_thread(self.postgres.stop, "immediate")
        return outcome

    erased_member_id: int | None = None

    def write_calls(self, fake: SoakTelegram) -> None:
        """For a look afterwards (--keep): Bot API calls by method, and the chats refused most."""
        from collections import Counter

        refused = Counter(e.chat_id for e in fake.limits.events if e.outcome == "429")
        staff = {p.telegram_id: p.employee_id for p in self.world.people if p.roles}
        lines = [f"{m} {n}" for m, n in sorted(fake.method_counts.items())]
        lines += [f"429 {staff.get(c, c)} {n}" for c, n in refused.most_common(30)]
        kinds = Counter(kind for _, _, kind in fake.limits.triggers)
        lines.append(f"flood waits started by: {dict(kinds)}")
        for at, chat, kind in fake.limits.triggers[:40]:
            before = [c for c in fake.by_chat.get(chat, []) if c.at <= at][-5:]  # type: ignore[arg-type]
            shown = [(c.method, str(c.params.get("text", ""))[:30]) for c in before]
            lines.append(f"  {kind} {staff.get(chat, chat)}: {shown}")
        (self.directory / "calls.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = []
        for person in self.world.people:
            chat = self.soak.chats[person.telegram_id]
            if not person.roles and (not chat.did or any(" s1:" in w for _, w in chat.did)):
                continue  # survey takers (and nobody): too many to read
            events = [(at, f">> {what}") for at, what in chat.did]
            events += [(c.at, f"<< {c.method} {'' if c.result is not None else '(refused) '}"
                        f"{str(c.params.get('text', ''))[:60]!r} "
                        f"{[d for _, d in buttons(c)][:4]}")
                       for c in fake.by_chat.get(person.telegram_id, [])]  # fmt: skip
            out.append(f"===== {person.employee_id} {person.roles}")
            out += [f"{at - self.soak.started:7.2f} {text}" for at, text in sorted(events)]
        (self.directory / "transcripts.txt").write_text("\n".join(out) + "\n", encoding="utf-8")

    def actors(self, soak: sc.Soak) -> list[Awaitable[None]]:
        world, scale, rng = self.world, self.scale, soak.rng
        members = [
            p for p in world.registered if not p.roles and p.telegram_id not in world.blocked
        ]
        staff = {world.officer.telegram_id, world.principal.telegram_id,
                 world.secretary.telegram_id, world.handler.telegram_id}  # fmt: skip
        takers = rng.sample(members, min(scale.answering, len(members)))
        actors: list[Awaitable[None]] = [sc.SurveyTaker(soak, p).run() for p in takers]
        # One thing at a time per person: a letter writer is not also answering the survey.
        others = [p for p in members if p not in takers]
        writers = rng.sample(others, scale.letters)
        actors += [sc.LetterWriter(soak, p, i).run() for i, p in enumerate(writers)]
        actors += [sc.Proposer(soak, world.representatives[i % len(world.representatives)], i).run()
                   for i in range(scale.proposals)]  # fmt: skip
        newcomers = [p for p in world.people if not p.registered and p.telegram_id not in staff]
        actors += [sc.Registrant(soak, p, wrong_name=i % 4 == 0).run()
                   for i, p in enumerate(newcomers[: scale.registrations])]  # fmt: skip
        busy = {p.telegram_id for p in takers + writers}
        quiet = [p for p in members if p.telegram_id not in busy]
        requesters = quiet[: scale.mydata]
        soak.quiet = quiet[scale.mydata :]
        self.officer = sc.Officer(soak)
        soak.officer = self.officer
        actors += [sc.DataRequester(soak, p, erase=i == 0).run() for i, p in enumerate(requesters)]
        self.to_erase = requesters[0]
        return actors

    def background(self, soak: sc.Soak) -> list[Awaitable[None]]:
        self.reader = sc.MailboxReader(soak)
        return [self.officer.approvals(), self.officer.proposals(), self.reader.run(),
                self._remember_erased()]  # fmt: skip

    async def _remember_erased(self) -> None:
        # The member id is needed to look for it after the erasure removed the member row.
        db_url = (
            self.postgres.url
            if self.postgres
            else f"sqlite+aiosqlite:///{self.directory / 'unionvoice.db'}"
        )
        self.erased_member_id = await member_id_of(db_url, self.to_erase.employee_id)

    async def drain(self, fake: SoakTelegram, db_url: str, timeout: float = 90) -> None:
        """Let the instances finish: no update waiting, the outbox empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fake.pending_updates() == 0 and await outbox_busy(db_url) == 0:
                return
            await asyncio.sleep(1)
        log("  drain: timed out (outbox or updates still busy)")


async def _nothing() -> None:
    return None


def report(outcome: Outcome) -> None:
    for verdict in outcome.verdicts:
        mark = "ok  " if verdict.ok else "FAIL"
        log(f"  {mark} {verdict.name}: {verdict.detail}")
    f = outcome.figures
    if f:
        log(f"  load held: {f['updates']} updates, 99 % of them in {f['traffic_s']:.0f} s "
            f"({f['updates_per_s']:.1f}/s; busiest minute {f['peak_per_s']:.1f}/s), "
            f"{f['sends']} messages accepted by Telegram ({f['sends_per_s']:.1f}/s)")  # fmt: skip
        log("  time: set-up {:.0f} s, load {:.0f} s, drain {:.0f} s, checks {:.0f} s".format(
            *f["phases"]))  # fmt: skip


async def main_async(args: argparse.Namespace) -> int:
    topologies = ["sqlite", "scaleout"] if args.topology == "both" else [args.topology]
    outcomes = []
    for topology in topologies:
        directory = Path(tempfile.mkdtemp(prefix=f"soak-{topology}-"))
        try:
            run = Run(topology, args.minutes, args.plant, directory)
            outcome = await run.execute()
        except Exception as exc:  # the set-up broke: that is a failed soak, loudly
            log(f"[{topology}] the run broke: {exc!r}")
            outcome = Outcome(topology, [Verdict("run completed", False, repr(exc)[:500])])
        report(outcome)
        outcomes.append(outcome)
        if args.keep:
            log(f"  kept: {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    failed = [f"{o.topology}:{v.name}" for o in outcomes for v in o.verdicts if not v.ok]
    log("soak: OK" if not failed else "soak: FAILED " + "; ".join(failed))
    return 0 if not failed else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=3.0, help="load time per topology")
    parser.add_argument("--topology", choices=["sqlite", "scaleout", "both"], default="both")
    parser.add_argument("--plant", choices=PLANTS, default="none",
                        help="start the instances with this fault monkeypatched in")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    with suppress(KeyboardInterrupt):
        return asyncio.run(main_async(parse(argv)))
    return 130


if __name__ == "__main__":
    sys.exit(main())
